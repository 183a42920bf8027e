//! MARC-in-JSON: the record as a JSON value, in the widely used layout
//!
//! ```json
//! {"leader": "01234nam a2200289 i 4500",
//!  "fields": [{"001": "ocm12345"},
//!             {"245": {"ind1": "1", "ind2": "0", "subfields": [{"a": "Title :"}, {"b": "subtitle."}]}}]}
//! ```
//!
//! Fields keep their order; a control field (tag `00X`) is a string, a data field an object with
//! `ind1`, `ind2` and `subfields`. Reading is strict about shape (a JSON document that does not
//! describe a record is an error naming the offending place, e.g. `fields[3].245.ind1`) and
//! lenient only where nothing is lost: a missing indicator is read as a blank.

use crate::{ControlField, DataField, Field, Leader, Record, Subfield, Tag};
use serde_json::{Map, Value};

/// Why a JSON value is not a MARC-in-JSON record. `path` names the offending place
/// (`leader`, `fields[2]`, `fields[2].245.subfields[0]`), `message` says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct JsonError {
    pub path: String,
    pub message: String,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> JsonError {
    JsonError { path: path.into(), message: message.into() }
}

/// Writes a record as MARC-in-JSON.
pub fn to_json(record: &Record) -> Value {
    let fields: Vec<Value> = record
        .fields
        .iter()
        .map(|field| {
            let mut obj = Map::with_capacity(1);
            match field {
                Field::Control(c) => {
                    obj.insert(c.tag.as_str().to_string(), Value::String(c.value.clone()));
                }
                Field::Data(d) => {
                    let subfields: Vec<Value> = d
                        .subfields
                        .iter()
                        .map(|s| {
                            let mut sf = Map::with_capacity(1);
                            sf.insert(s.code.to_string(), Value::String(s.value.to_string()));
                            Value::Object(sf)
                        })
                        .collect();
                    let mut data = Map::with_capacity(3);
                    data.insert("ind1".into(), Value::String(d.ind1.to_string()));
                    data.insert("ind2".into(), Value::String(d.ind2.to_string()));
                    data.insert("subfields".into(), Value::Array(subfields));
                    obj.insert(d.tag.as_str().to_string(), Value::Object(data));
                }
            }
            Value::Object(obj)
        })
        .collect();
    let mut root = Map::with_capacity(2);
    root.insert("leader".into(), Value::String(record.leader.as_str().to_string()));
    root.insert("fields".into(), Value::Array(fields));
    Value::Object(root)
}

/// Parses MARC-in-JSON text.
pub fn from_json_str(text: &str) -> Result<Record, JsonError> {
    let value: Value = serde_json::from_str(text).map_err(|e| err("", format!("not JSON: {e}")))?;
    from_json(&value)
}

/// Reads a record from a MARC-in-JSON value.
pub fn from_json(value: &Value) -> Result<Record, JsonError> {
    let root = value.as_object().ok_or_else(|| err("", "a MARC-in-JSON record is a JSON object"))?;
    if let Some(key) = root.keys().find(|k| *k != "leader" && *k != "fields") {
        return Err(err(key.as_str(), "unknown member (a record has only \"leader\" and \"fields\")"));
    }
    let leader = match root.get("leader") {
        None => return Err(err("leader", "missing")),
        Some(Value::String(s)) => parse_leader(s)?,
        Some(_) => return Err(err("leader", "must be a string of 24 characters")),
    };
    let fields = match root.get("fields") {
        None => return Err(err("fields", "missing")),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(err("fields", "must be an array of fields")),
    };
    let mut record = Record::new(leader);
    record.fields.reserve(fields.len());
    for (i, field) in fields.iter().enumerate() {
        record.fields.push(parse_field(i, field)?);
    }
    Ok(record)
}

fn parse_leader(s: &str) -> Result<Leader, JsonError> {
    let bytes = s.as_bytes();
    if bytes.len() != 24 || !bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Err(err("leader", format!("{s:?} is not 24 ASCII characters")));
    }
    let mut b = [b' '; 24];
    b.copy_from_slice(bytes);
    Ok(Leader::from_bytes(b))
}

fn parse_field(i: usize, value: &Value) -> Result<Field, JsonError> {
    let path = format!("fields[{i}]");
    let obj = value
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| err(&path, "a field is an object with exactly one member, its tag"))?;
    let Some((tag_text, body)) = obj.iter().next() else {
        return Err(err(&path, "a field is an object with exactly one member, its tag"));
    };
    let tag = Tag::parse(tag_text).map_err(|e| err(&path, e.to_string()))?;
    let path = format!("{path}.{tag_text}");
    if tag.is_control() {
        return match body {
            Value::String(s) => Ok(Field::Control(ControlField { tag, value: s.clone() })),
            _ => Err(err(path, "a control field (00X) is a string")),
        };
    }
    let data = body.as_object().ok_or_else(|| err(&path, "a data field is an object with ind1, ind2 and subfields"))?;
    if let Some(key) = data.keys().find(|k| !matches!(k.as_str(), "ind1" | "ind2" | "subfields")) {
        return Err(err(format!("{path}.{key}"), "unknown member (a data field has ind1, ind2 and subfields)"));
    }
    let ind1 = parse_indicator(&path, "ind1", data.get("ind1"))?;
    let ind2 = parse_indicator(&path, "ind2", data.get("ind2"))?;
    let subfields = match data.get("subfields") {
        Some(Value::Array(a)) => a,
        None => return Err(err(format!("{path}.subfields"), "missing")),
        Some(_) => return Err(err(format!("{path}.subfields"), "must be an array")),
    };
    let mut field = DataField::new(tag, ind1, ind2);
    field.subfields.reserve(subfields.len());
    for (j, sf) in subfields.iter().enumerate() {
        let sf_path = format!("{path}.subfields[{j}]");
        let obj = sf
            .as_object()
            .filter(|o| o.len() == 1)
            .ok_or_else(|| err(&sf_path, "a subfield is an object with exactly one member, its code"))?;
        let Some((code, value)) = obj.iter().next() else {
            return Err(err(&sf_path, "a subfield is an object with exactly one member, its code"));
        };
        let mut chars = code.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_graphic() => c,
            _ => return Err(err(&sf_path, format!("subfield code {code:?} is not one character"))),
        };
        let Value::String(value) = value else {
            return Err(err(format!("{sf_path}.{code}"), "a subfield value is a string"));
        };
        field.subfields.push(Subfield { code, value: value.as_str().into() });
    }
    Ok(Field::Data(field))
}

fn parse_indicator(path: &str, name: &str, value: Option<&Value>) -> Result<char, JsonError> {
    match value {
        None | Some(Value::Null) => Ok(' '),
        Some(Value::String(s)) => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (None, _) => Ok(' '),
                (Some(c), None) if c == ' ' || c.is_ascii_alphanumeric() => Ok(c),
                _ => Err(err(
                    format!("{path}.{name}"),
                    format!("{s:?} is not an indicator (a blank, a digit or a letter)"),
                )),
            }
        }
        Some(_) => Err(err(format!("{path}.{name}"), "an indicator is a one-character string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Record {
        let mut r = Record::new(Leader::new_bibliographic());
        r.push_control(Tag::parse("001").expect("tag"), "ocm00012345");
        r.push_control(Tag::parse("008").expect("tag"), "180101s2018    nyu           000 1 eng d");
        r.push_data(
            DataField::new(Tag::parse("245").expect("tag"), '1', '0')
                .with('a', "Fahrenheit 451 /")
                .with('c', "Ray Bradbury."),
        );
        r.push_data(
            DataField::new(Tag::parse("650").expect("tag"), ' ', '0').with('a', "Censorship").with('v', "Fiction."),
        );
        r
    }

    #[test]
    fn round_trips() {
        let r = sample();
        let v = to_json(&r);
        assert_eq!(v["fields"][2]["245"]["subfields"][0]["a"], "Fahrenheit 451 /");
        assert_eq!(v["fields"][0]["001"], "ocm00012345");
        assert_eq!(from_json(&v), Ok(r.clone()));
        assert_eq!(from_json_str(&v.to_string()), Ok(r));
    }

    #[test]
    fn missing_indicators_are_blank() {
        let v = json!({"leader": "00000nam a2200000 i 4500", "fields": [{"245": {"subfields": [{"a": "T"}]}}]});
        let r = from_json(&v).expect("record");
        let f = r.data_field("245").expect("245");
        assert_eq!((f.ind1, f.ind2), (' ', ' '));
    }

    fn check_err(v: Value, path: &str) {
        match from_json(&v) {
            Err(e) => assert_eq!(e.path, path, "{e}"),
            Ok(r) => panic!("accepted {r:?}"),
        }
    }

    #[test]
    fn errors_name_the_place() {
        let leader = "00000nam a2200000 i 4500";
        check_err(json!([]), "");
        check_err(json!({"fields": []}), "leader");
        check_err(json!({"leader": "short", "fields": []}), "leader");
        check_err(json!({"leader": leader}), "fields");
        check_err(json!({"leader": leader, "fields": {}}), "fields");
        check_err(json!({"leader": leader, "fields": [], "extra": 1}), "extra");
        check_err(json!({"leader": leader, "fields": ["x"]}), "fields[0]");
        check_err(json!({"leader": leader, "fields": [{"24": "x"}]}), "fields[0]");
        check_err(json!({"leader": leader, "fields": [{"001": {"ind1": " "}}]}), "fields[0].001");
        check_err(json!({"leader": leader, "fields": [{"245": "x"}]}), "fields[0].245");
        check_err(
            json!({"leader": leader, "fields": [{"245": {"ind1": "xx", "subfields": []}}]}),
            "fields[0].245.ind1",
        );
        check_err(json!({"leader": leader, "fields": [{"245": {"ind2": 1, "subfields": []}}]}), "fields[0].245.ind2");
        check_err(json!({"leader": leader, "fields": [{"245": {"ind1": " "}}]}), "fields[0].245.subfields");
        check_err(
            json!({"leader": leader, "fields": [{"245": {"subfields": [{"ab": "x"}]}}]}),
            "fields[0].245.subfields[0]",
        );
        check_err(
            json!({"leader": leader, "fields": [{"245": {"subfields": [{"a": 1}]}}]}),
            "fields[0].245.subfields[0].a",
        );
        check_err(json!({"leader": leader, "fields": [{"245": {"subfields": [], "x": 1}}]}), "fields[0].245.x");
    }
}

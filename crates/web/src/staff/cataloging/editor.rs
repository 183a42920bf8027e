//! The MARC editor: a record's leader and 008 with a labelled box or list per position, and its
//! fields as a grid (tag, indicators, subfield code and value rows). Adding and removing fields
//! and subfields posts the form with an `action`, so the editor works without JavaScript; the
//! page comes back with the change made and nothing saved. Saving goes through the same service
//! as `POST`/`PUT /api/v1/records` ([`crate::api::records::save_new`], [`crate::api::records::save`]).
//!
//! Form names: `leader` (the 24 characters as loaded) and `l{NN}` (a leader position's list);
//! per field `i`: `t{i}` tag, `a{i}`/`b{i}` indicators, `v{i}` a control field's value, or
//! `p{i}_{NN}` the 008's positions from NN; `c{i}_{j}`/`s{i}_{j}` subfield `j`'s code and value.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use catalog::editing::{fixed_field_008, Draft, DraftField, Material, Place, Position, Problem, LEADER};

use crate::html::Esc;

/// What a post of the editor asks for besides saving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Save,
    AddField(usize),
    RemoveField(usize),
    AddSubfield(usize),
    RemoveSubfield(usize, usize),
    /// Only shows the page again (after the leader's type changed, the 008's boxes follow).
    Refresh,
}

impl Action {
    pub fn parse(raw: Option<&str>) -> Action {
        let Some(raw) = raw else { return Action::Save };
        let (verb, at) = raw.split_once(':').unwrap_or((raw, ""));
        let mut numbers = at.split('_').map(|n| n.parse::<usize>().ok());
        let (first, second) = (numbers.next().flatten(), numbers.next().flatten());
        match (verb, first, second) {
            ("add-field", Some(i), _) => Action::AddField(i),
            ("remove-field", Some(i), _) => Action::RemoveField(i),
            ("add-subfield", Some(i), _) => Action::AddSubfield(i),
            ("remove-subfield", Some(i), Some(j)) => Action::RemoveSubfield(i, j),
            ("refresh", _, _) => Action::Refresh,
            _ => Action::Save,
        }
    }

    /// Makes the change in `draft`; returns the box to put the cursor in.
    pub fn apply(&self, draft: &mut Draft) -> Option<String> {
        match *self {
            Action::Save | Action::Refresh => None,
            Action::AddField(i) => {
                let at = (i + 1).min(draft.fields.len());
                let new = DraftField {
                    ind1: " ".into(),
                    ind2: " ".into(),
                    subfields: vec![("a".into(), String::new())],
                    ..DraftField::default()
                };
                draft.fields.insert(at, new);
                Some(format!("t{at}"))
            }
            Action::RemoveField(i) => {
                if i < draft.fields.len() {
                    draft.fields.remove(i);
                }
                None
            }
            Action::AddSubfield(i) => {
                let f = draft.fields.get_mut(i)?;
                f.subfields.push((String::new(), String::new()));
                Some(format!("c{i}_{}", f.subfields.len() - 1))
            }
            Action::RemoveSubfield(i, j) => {
                let f = draft.fields.get_mut(i)?;
                if j < f.subfields.len() {
                    f.subfields.remove(j);
                }
                None
            }
        }
    }
}

/// A draft from the posted form, with the problems only the form can have (an 008 position
/// longer than its place).
pub(crate) fn draft_from_form(fields: &[(String, String)]) -> (Draft, Vec<Problem>) {
    #[derive(Default)]
    struct Partial {
        field: DraftField,
        parts: BTreeMap<usize, String>,
        subfields: BTreeMap<usize, (String, String)>,
    }
    let mut leader = String::new();
    let mut leader_positions: Vec<(usize, String)> = Vec::new();
    let mut by_index: BTreeMap<usize, Partial> = BTreeMap::new();
    for (name, value) in fields {
        if name == "leader" {
            leader = value.clone();
            continue;
        }
        let Some(kind) = name.chars().next() else { continue };
        let rest = &name[kind.len_utf8()..];
        let (first, second) = match rest.split_once('_') {
            Some((a, b)) => (a.parse::<usize>().ok(), b.parse::<usize>().ok()),
            None => (rest.parse::<usize>().ok(), None),
        };
        let Some(i) = first else { continue };
        if kind == 'l' {
            leader_positions.push((i, value.clone()));
            continue;
        }
        if !matches!(kind, 't' | 'a' | 'b' | 'v' | 'p' | 'c' | 's') {
            continue;
        }
        let partial = by_index.entry(i).or_default();
        match (kind, second) {
            ('t', None) => partial.field.tag = value.trim().to_string(),
            ('a', None) => partial.field.ind1 = value.clone(),
            ('b', None) => partial.field.ind2 = value.clone(),
            ('v', None) => partial.field.value = Some(value.clone()),
            ('p', Some(at)) => {
                partial.parts.insert(at, value.clone());
            }
            ('c', Some(j)) => partial.subfields.entry(j).or_default().0 = value.trim().to_string(),
            ('s', Some(j)) => partial.subfields.entry(j).or_default().1 = value.clone(),
            _ => {}
        }
    }
    let mut chars: Vec<char> = leader.chars().collect();
    chars.resize(24, ' ');
    for (at, value) in leader_positions {
        let mut v = value.chars();
        if let (Some(c), None, true) = (v.next(), v.next(), at < 24) {
            chars[at] = c;
        }
    }
    let leader: String = chars.into_iter().collect();
    let mut problems = Vec::new();
    let mut draft_fields = Vec::with_capacity(by_index.len());
    for (n, (_, mut p)) in by_index.into_iter().enumerate() {
        if !p.parts.is_empty() {
            let mut value = String::new();
            let starts: Vec<usize> = p.parts.keys().copied().collect();
            for (k, (start, text)) in p.parts.iter().enumerate() {
                let end = starts.get(k + 1).copied().unwrap_or(40);
                let width = end.saturating_sub(*start);
                let len = text.chars().count();
                if len > width {
                    problems.push(Problem {
                        place: Place::Value(n),
                        message: format!(
                            "field {} positions {start:02}-{:02}: {text:?} is longer than {width} characters",
                            p.field.tag,
                            end - 1
                        ),
                    });
                }
                value.push_str(text);
                value.extend(std::iter::repeat_n(' ', width.saturating_sub(len)));
            }
            p.field.value = Some(value);
        }
        p.field.subfields = p.subfields.into_values().collect();
        draft_fields.push(p.field);
    }
    (Draft { leader, fields: draft_fields }, problems)
}

/// The element id of the box a problem belongs to.
fn place_id(place: Place) -> String {
    match place {
        Place::Leader => "leader-helper".into(),
        Place::Record => "record-problems-error".into(),
        Place::Tag(i) | Place::Field(i) => format!("t{i}"),
        Place::Ind1(i) => format!("a{i}"),
        Place::Ind2(i) => format!("b{i}"),
        Place::Value(i) => format!("v{i}"),
        Place::SubfieldCode(i, j) => format!("c{i}_{j}"),
        Place::SubfieldValue(i, j) => format!("s{i}_{j}"),
    }
}

/// Problems by the box they are shown beside.
struct Marks<'a> {
    by_place: HashMap<Place, Vec<&'a str>>,
}

impl<'a> Marks<'a> {
    fn new(problems: &'a [Problem]) -> Marks<'a> {
        let mut by_place: HashMap<Place, Vec<&str>> = HashMap::new();
        for p in problems {
            by_place.entry(p.place).or_default().push(&p.message);
        }
        Marks { by_place }
    }

    /// ` aria-invalid="true" aria-describedby="ID-error"` when the box has a problem.
    fn attrs(&self, place: Place, id: &str) -> String {
        if self.by_place.contains_key(&place) {
            format!(" aria-invalid=\"true\" aria-describedby=\"{id}-error\"")
        } else {
            String::new()
        }
    }

    /// The problem's sentence under the box.
    fn message(&self, place: Place, id: &str) -> String {
        match self.by_place.get(&place) {
            Some(list) => format!(
                "<p class=\"field-error\" id=\"{id}-error\">{}</p>",
                list.iter().map(|m| Esc(&crate::staff::capitalised(m)).to_string()).collect::<Vec<_>>().join(" ")
            ),
            None => String::new(),
        }
    }
}

fn select(
    out: &mut String,
    id: &str,
    name: &str,
    label: &str,
    codes: &[(char, &str)],
    current: char,
    extra_attrs: &str,
) {
    let _ = write!(
        out,
        "<div class=\"pos\"><label for=\"{id}\">{}</label><select id=\"{id}\" name=\"{name}\"{extra_attrs}>",
        Esc(label)
    );
    if !codes.iter().any(|(c, _)| *c == current) {
        let _ = write!(
            out,
            "<option value=\"{}\" selected>{} (not a MARC 21 code)</option>",
            Esc(&current.to_string()),
            Esc(&shown(current))
        );
    }
    for (c, meaning) in codes {
        let _ = write!(
            out,
            "<option value=\"{}\"{}>{} - {}</option>",
            Esc(&c.to_string()),
            if *c == current { " selected" } else { "" },
            Esc(&shown(*c)),
            Esc(meaning)
        );
    }
    out.push_str("</select></div>");
}

fn shown(c: char) -> String {
    if c == ' ' {
        "blank".to_string()
    } else {
        c.to_string()
    }
}

fn leader_helper(out: &mut String, leader: &str, marks: &Marks<'_>) {
    let chars: Vec<char> = leader.chars().collect();
    let _ = write!(
        out,
        "<fieldset class=\"leader\" id=\"leader-helper\"><legend>Leader</legend>\
         <input type=\"hidden\" name=\"leader\" value=\"{}\"><p class=\"hint\">Leader as stored: <code>{}</code> \
         (lengths and addresses are computed when the record is saved).</p><div class=\"positions\">",
        Esc(leader),
        Esc(&leader.replace(' ', "#"))
    );
    for p in LEADER {
        let current = chars.get(p.start).copied().unwrap_or(' ');
        let id = format!("l{:02}", p.start);
        select(out, &id, &id, &format!("{:02} {}", p.start, p.name), p.codes, current, "");
    }
    // Without JavaScript the cataloger asks for the 008 of a new type of record with this
    // button; the script below presses it when leader/06 or /07 changes.
    out.push_str(
        "</div><button type=\"submit\" name=\"action\" value=\"refresh\" class=\"secondary small\" \
         id=\"leader-refresh\">Show the 008 positions for this type</button>",
    );
    out.push_str(&marks.message(Place::Leader, "leader-helper"));
    out.push_str("</fieldset>\n");
}

/// The 008's positions as boxes and lists, when it has its 40 characters; else `None` (the
/// field is then one text box, as stored).
fn fixed_field_helper(out: &mut String, i: usize, value: &str, leader: &str, marks: &Marks<'_>) -> bool {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() != 40 {
        return false;
    }
    let material = Material::of(leader);
    let _ = write!(
        out,
        "<div class=\"positions fixed\" role=\"group\" aria-label=\"008 fixed-length data elements ({})\"{}>",
        material.name(),
        if marks.by_place.contains_key(&Place::Value(i)) {
            format!(" id=\"v{i}\" aria-describedby=\"v{i}-error\"")
        } else {
            format!(" id=\"v{i}\"")
        }
    );
    for p in fixed_field_008(material) {
        let Position { start, len, name, codes } = p;
        let text: String = chars[start..start + len].iter().collect();
        let id = format!("p{i}_{start}");
        let label =
            if len == 1 { format!("{start:02} {name}") } else { format!("{start:02}-{:02} {name}", start + len - 1) };
        if name == "Undefined" {
            let _ = write!(out, "<input type=\"hidden\" name=\"{id}\" value=\"{}\">", Esc(&text));
        } else if len == 1 && !codes.is_empty() {
            select(out, &id, &id, &label, codes, chars[start], "");
        } else {
            let _ = write!(
                out,
                "<div class=\"pos\"><label for=\"{id}\">{}</label><input id=\"{id}\" name=\"{id}\" value=\"{}\" \
                 maxlength=\"{len}\" size=\"{}\" spellcheck=\"false\" autocomplete=\"off\" class=\"mono\"></div>",
                Esc(&label),
                Esc(&text),
                len.max(2) + 1
            );
        }
    }
    out.push_str("</div>");
    true
}

/// The editor's form: `action` is where it posts.
pub(crate) fn form(action: &str, draft: &Draft, problems: &[Problem], focus: Option<&str>) -> String {
    let marks = Marks::new(problems);
    let mut out = String::with_capacity(16 * 1024);
    if !problems.is_empty() {
        let _ = write!(
            out,
            "<div class=\"refused\" role=\"alert\" id=\"problems\"><h2>The record was not saved: {} to correct</h2><ul>",
            if problems.len() == 1 { "one problem".to_string() } else { format!("{} problems", problems.len()) }
        );
        for p in problems {
            let _ = write!(
                out,
                "<li><a href=\"#{}\">{}</a></li>",
                place_id(p.place),
                Esc(&crate::staff::capitalised(&p.message))
            );
        }
        out.push_str("</ul></div>\n");
    }
    let _ = write!(
        out,
        "<form method=\"post\" action=\"{}\" class=\"marc-editor\" id=\"marc-editor\">{}\n\
         <div class=\"editor-bar\"><button type=\"submit\" name=\"action\" value=\"save\">Save record</button></div>\n",
        Esc(action),
        super::super::once::token_field()
    );
    if let Some(list) = marks.by_place.get(&Place::Record) {
        let _ = write!(
            out,
            "<p class=\"field-error\" id=\"record-problems-error\">{}</p>",
            list.iter().map(|m| Esc(&crate::staff::capitalised(m)).to_string()).collect::<Vec<_>>().join(" ")
        );
    }
    leader_helper(&mut out, &draft.leader, &marks);
    out.push_str(
        "<h2 id=\"fields-heading\">Fields</h2>\n<ol class=\"marc-fields\" aria-labelledby=\"fields-heading\">\n",
    );
    for (i, f) in draft.fields.iter().enumerate() {
        field_row(&mut out, i, f, &draft.leader, &marks, focus);
    }
    let last = draft.fields.len().saturating_sub(1);
    let _ = write!(
        out,
        "</ol>\n<div class=\"editor-bar\"><button type=\"submit\" name=\"action\" value=\"add-field:{last}\" \
         class=\"secondary\">Add a field at the end</button> <button type=\"submit\" name=\"action\" value=\"save\">Save record</button></div>\n</form>\n"
    );
    out.push_str(LEADER_SCRIPT);
    out
}

fn autofocus(focus: Option<&str>, id: &str) -> &'static str {
    if focus == Some(id) {
        " autofocus"
    } else {
        ""
    }
}

fn field_row(out: &mut String, i: usize, f: &DraftField, leader: &str, marks: &Marks<'_>, focus: Option<&str>) {
    let tag = f.tag.trim();
    let named = if tag.is_empty() { format!("new field {}", i + 1) } else { format!("field {tag}") };
    let control = tag.starts_with("00") && tag.len() == 3 && f.subfields.is_empty();
    let _ = write!(out, "<li class=\"marc-field\" id=\"field-{i}\"><div class=\"field-head\">");
    let tag_id = format!("t{i}");
    let tag_place = if marks.by_place.contains_key(&Place::Tag(i)) { Place::Tag(i) } else { Place::Field(i) };
    let _ = write!(
        out,
        "<div class=\"tag\"><label for=\"{tag_id}\">Tag</label><input id=\"{tag_id}\" name=\"{tag_id}\" value=\"{}\" \
         maxlength=\"3\" size=\"4\" inputmode=\"numeric\" autocomplete=\"off\" class=\"mono\"{}{}></div>",
        Esc(&f.tag),
        marks.attrs(tag_place, &tag_id),
        autofocus(focus, &tag_id)
    );
    if !control {
        for (id, value, place, label) in
            [(format!("a{i}"), &f.ind1, Place::Ind1(i), "Ind 1"), (format!("b{i}"), &f.ind2, Place::Ind2(i), "Ind 2")]
        {
            // A blank indicator is an empty box; a space typed in one is read as blank too.
            let shown = if value == " " { "" } else { value.as_str() };
            let _ = write!(
                out,
                "<div class=\"ind\"><label for=\"{id}\">{label}</label><input id=\"{id}\" name=\"{id}\" value=\"{}\" \
                 maxlength=\"1\" size=\"2\" autocomplete=\"off\" class=\"mono\" title=\"{label} of {}: empty or # for blank\"{}></div>",
                Esc(shown),
                Esc(&named),
                marks.attrs(place, &id)
            );
        }
    }
    let _ = write!(
        out,
        "<div class=\"field-actions\"><button type=\"submit\" class=\"secondary\" name=\"action\" value=\"add-field:{i}\" \
         aria-label=\"Add a field after {named} (row {n})\">Add field after</button> \
         <button type=\"submit\" class=\"secondary\" name=\"action\" value=\"remove-field:{i}\" \
         aria-label=\"Remove {named} (row {n})\">Remove field</button></div></div>",
        named = Esc(&named),
        n = i + 1
    );
    out.push_str(&marks.message(Place::Tag(i), &tag_id));
    // A tag problem and a field problem never come together: a field whose tag is wrong is
    // not checked further.
    out.push_str(&marks.message(Place::Field(i), &tag_id));
    if !control {
        out.push_str(&marks.message(Place::Ind1(i), &format!("a{i}")));
        out.push_str(&marks.message(Place::Ind2(i), &format!("b{i}")));
    }
    if control {
        let value = f.value.as_deref().unwrap_or("");
        let helped = tag == "008" && fixed_field_helper(out, i, value, leader, marks);
        if !helped {
            let id = format!("v{i}");
            let _ = write!(
                out,
                "<div class=\"control-value\"><label for=\"{id}\">Value of {}</label><input id=\"{id}\" name=\"{id}\" \
                 value=\"{}\" spellcheck=\"false\" autocomplete=\"off\" class=\"mono wide\"{}></div>",
                Esc(&named),
                Esc(value),
                marks.attrs(Place::Value(i), &id)
            );
        }
        out.push_str(&marks.message(Place::Value(i), &format!("v{i}")));
    } else {
        if let Some(value) = f.value.as_deref().filter(|v| !v.is_empty()) {
            // A data field that arrived with a control value (its tag was changed): kept, so the
            // cataloger sees it and the problem beside it.
            let id = format!("v{i}");
            let _ = write!(
                out,
                "<div class=\"control-value\"><label for=\"{id}\">Value of {}</label><input id=\"{id}\" name=\"{id}\" \
                 value=\"{}\" class=\"mono wide\"{}></div>",
                Esc(&named),
                Esc(value),
                marks.attrs(Place::Value(i), &id)
            );
            out.push_str(&marks.message(Place::Value(i), &id));
        }
        let _ = write!(out, "<ol class=\"subfields\" aria-label=\"Subfields of {}\">", Esc(&named));
        for (j, (code, value)) in f.subfields.iter().enumerate() {
            let (cid, sid) = (format!("c{i}_{j}"), format!("s{i}_{j}"));
            let what = if code.is_empty() { format!("subfield {}", j + 1) } else { format!("${code}") };
            let _ = write!(
                out,
                "<li class=\"subfield\"><span class=\"dollar\" aria-hidden=\"true\">$</span>\
                 <input id=\"{cid}\" name=\"{cid}\" value=\"{}\" maxlength=\"1\" size=\"2\" autocomplete=\"off\" \
                 class=\"mono code\" aria-label=\"{named} subfield {n} code\"{}{}>\
                 <input id=\"{sid}\" name=\"{sid}\" value=\"{}\" autocomplete=\"off\" class=\"value\" \
                 aria-label=\"{named} {what} value\"{}{}>\
                 <button type=\"submit\" class=\"secondary small\" name=\"action\" value=\"remove-subfield:{i}_{j}\" \
                 aria-label=\"Remove {named} {what} (subfield {n})\">Remove</button>",
                Esc(code),
                marks.attrs(Place::SubfieldCode(i, j), &cid),
                autofocus(focus, &cid),
                Esc(value),
                marks.attrs(Place::SubfieldValue(i, j), &sid),
                autofocus(focus, &sid),
                named = Esc(&named),
                what = Esc(&what),
                n = j + 1,
            );
            out.push_str(&marks.message(Place::SubfieldCode(i, j), &cid));
            out.push_str(&marks.message(Place::SubfieldValue(i, j), &sid));
            out.push_str("</li>");
        }
        let _ = write!(
            out,
            "</ol><button type=\"submit\" class=\"secondary small\" name=\"action\" value=\"add-subfield:{i}\" \
             aria-label=\"Add a subfield to {} (row {})\">Add subfield</button>",
            Esc(&named),
            i + 1
        );
    }
    out.push_str("</li>\n");
}

/// A change of leader/06 or /07 brings the 008 positions of that type of record at once.
const LEADER_SCRIPT: &str = "<script>(function(){var b=document.getElementById('leader-refresh');if(!b){return;}\
['l06','l07'].forEach(function(id){var s=document.getElementById(id);if(s){s.addEventListener('change',function(){b.click();});}});})();</script>\n";

/// The editor's look: the grid wraps on a tablet instead of scrolling sideways.
pub(crate) const STYLE: &str = "\
.marc-editor fieldset{border:1px solid #9aa8ba;padding:.4rem .8rem;margin:.6rem 0}\
.positions{display:flex;flex-wrap:wrap;gap:.3rem 1rem}.pos{display:flex;flex-direction:column;max-width:100%}\
.pos select{max-width:22rem}.mono{font-family:monospace}.hint{font-size:.9rem;margin:.2rem 0}\
ol.marc-fields{list-style:none;padding:0;margin:0}li.marc-field{border-top:1px solid #c8d1dc;padding:.4rem 0}\
.field-head{display:flex;flex-wrap:wrap;gap:.3rem .8rem;align-items:flex-end}.field-head label{display:block;font-size:.85rem}\
.field-actions{margin-left:auto}ol.subfields{list-style:none;padding:0 0 0 1.5rem;margin:.3rem 0}\
li.subfield{display:flex;flex-wrap:wrap;gap:.3rem;align-items:center;margin:.15rem 0}li.subfield .value{flex:1 1 14rem;min-width:0}\
.control-value{display:flex;flex-direction:column;margin:.3rem 0 0 1.5rem}.control-value .wide{max-width:100%}\
.field-error{color:#b00020;font-weight:700;margin:.2rem 0 .2rem 1.5rem;flex-basis:100%}[aria-invalid=true]{border:2px solid #b00020}\
button.small{padding:.1rem .5rem;font-size:.9rem}.editor-bar{margin:.6rem 0}\
table.items{border-collapse:collapse;width:100%}table.items td,table.items th{border-bottom:1px solid #c8d1dc;padding:.3rem;text-align:left}\
.table-wrap{overflow-x:auto;max-width:100%}.shelf-preview li.here{font-weight:700;background:#fff6d6}\
.field-row{margin:.4rem 0}.field-row input,.field-row select{max-width:100%}";

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn actions_are_read_from_the_button() {
        assert_eq!(Action::parse(None), Action::Save);
        assert_eq!(Action::parse(Some("save")), Action::Save);
        assert_eq!(Action::parse(Some("add-field:3")), Action::AddField(3));
        assert_eq!(Action::parse(Some("remove-subfield:2_1")), Action::RemoveSubfield(2, 1));
        assert_eq!(Action::parse(Some("remove-subfield:2")), Action::Save);
    }

    #[test]
    fn the_form_comes_back_as_the_draft_it_shows() {
        let (draft, problems) = draft_from_form(&pairs(&[
            ("leader", "00000nam a2200000 i 4500"),
            ("l06", "g"),
            ("t0", "008"),
            ("p0_0", "260101"),
            ("p0_6", "s"),
            ("p0_7", "2026"),
            ("p0_11", ""),
            ("t1", "245"),
            ("a1", "1"),
            ("b1", "0"),
            ("c1_0", "a"),
            ("s1_0", " Title with spaces "),
            ("c1_1", "c"),
            ("s1_1", "by me."),
        ]));
        assert!(problems.is_empty());
        assert_eq!(draft.leader, "00000ngm a2200000 i 4500");
        assert_eq!(draft.fields[0].value.as_deref(), Some("260101s2026                             "));
        assert_eq!(draft.fields[1].subfields[0], ("a".to_string(), " Title with spaces ".to_string()));
        let html = form("/x", &draft, &[], None);
        assert!(html.contains("name=\"s1_0\" value=\" Title with spaces \""), "{html}");
    }

    #[test]
    fn a_position_too_long_is_named() {
        let (_, problems) = draft_from_form(&pairs(&[
            ("leader", "00000nam a2200000 i 4500"),
            ("t0", "008"),
            ("p0_0", "1234567"),
            ("p0_6", "s"),
        ]));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("008 positions 00-05"), "{problems:?}");
    }
}

//! The demo library: a fictional city library (Riverton Public Library) with branches, shelving
//! locations, item types, patrons and a catalog of realistic MARC 21 bibliographic records, each
//! carrying its items in Koha 952 fields exactly as an import file would.
//!
//! Everything is a pure function of the seed: a tiny SplitMix64 generator drives word lists, so
//! the same seed always gives the same library (tests and screenshots stay stable). No clock is
//! read; dates are drawn from fixed ranges ending in [`DEMO_YEAR`].
//!
//! What the records hold: leader/06-07, 007 and 008 consistent with the format (book, large
//! print, DVD, audiobook CD, music CD, magazine, reference, equipment); ISBN-13s and ISSNs with
//! valid check digits; Dewey numbers (082) that match the subject headings (650) and LC call
//! numbers (050) with Cutter numbers from the author's name; series (490/830), notes, RDA
//! 336-338, and 1-4 items per record whose 952 names only generated branches, locations and item
//! types, with unique 14-digit Codabar-style barcodes (`31234` + sequence + Luhn check digit).

use catalog::{Branch, Code, ItemType, ShelvingLocation};
use marc::{DataField, Leader, Record, Tag};
use std::collections::HashSet;
use storage::Patron;

/// The library every demo is of.
pub const LIBRARY_NAME: &str = "Riverton Public Library";

/// The last year dates are drawn from (publication, acquisition, expiry start).
pub const DEMO_YEAR: i32 = 2025;

/// MARC organisation code written to 003 and 040.
const ORG: &str = "RvPL";

/// A generated library, ready to be stored: organisation first, then patrons, then records
/// (whose 952 fields carry the items).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLibrary {
    pub name: String,
    pub branches: Vec<Branch>,
    pub locations: Vec<ShelvingLocation>,
    pub item_types: Vec<ItemType>,
    pub patrons: Vec<Patron>,
    pub records: Vec<Record>,
}

/// Builds a demo library of `records` bibliographic records (and a few hundred patrons) from
/// `seed`. The same arguments always give the same library.
pub fn generate(seed: u64, records: usize) -> DemoLibrary {
    let mut g = Generator { rng: Rng::new(seed), isbns: HashSet::new(), next_barcode: 1, next_control: 1 };
    let patron_count = 300;
    let patrons = (0..patron_count).map(|i| g.patron(i)).collect();
    let mut out = Vec::with_capacity(records);
    for i in 0..records {
        // One equipment record (laptops for hourly loan) in every library of a useful size.
        let kind = if records >= 10 && i == records / 2 { Kind::Laptop } else { *g.rng.weighted(KINDS) };
        out.push(g.record(kind));
    }
    DemoLibrary {
        name: LIBRARY_NAME.to_string(),
        branches: BRANCHES.iter().map(|(c, n, _)| Branch { code: code(c), name: n.to_string() }).collect(),
        locations: LOCATIONS.iter().map(|(c, n)| ShelvingLocation { code: code(c), name: n.to_string() }).collect(),
        item_types: ITEM_TYPES
            .iter()
            .map(|(c, n, loanable)| ItemType { code: code(c), name: n.to_string(), loanable: *loanable })
            .collect(),
        patrons,
        records: out,
    }
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("the demo's codes are valid")
}

fn tag(s: &str) -> Tag {
    Tag::parse(s).expect("the demo's tags are valid")
}

// ---------------------------------------------------------------------------------------------
// Organisation

/// (code, name, share of the collection in percent)
const BRANCHES: &[(&str, &str, u32)] = &[
    ("CEN", "Riverton Central Library", 40),
    ("OAK", "Oak Hill Branch", 18),
    ("EAS", "Eastgate Branch", 16),
    ("MIL", "Millbrook Branch", 14),
    ("HAR", "Harbor View Branch", 12),
];

const LOCATIONS: &[(&str, &str)] = &[
    ("AF", "Adult Fiction"),
    ("ANF", "Adult Non-fiction"),
    ("CHILD", "Children's"),
    ("YA", "Young Adult"),
    ("REF", "Reference"),
    ("DISPLAY", "Display"),
    ("AV", "Audiovisual"),
    ("LP", "Large Print"),
];

/// (code, name, loanable)
const ITEM_TYPES: &[(&str, &str, bool)] = &[
    ("BK", "Book", true),
    ("LP", "Large print", true),
    ("DVD", "DVD", true),
    ("ACD", "Audiobook CD", true),
    ("MCD", "Music CD", true),
    ("MAG", "Magazine", true),
    ("LAPTOP", "Laptop (hourly)", true),
    ("REF", "Reference", false),
];

// ---------------------------------------------------------------------------------------------
// The generator

/// SplitMix64: tiny, fast, and good enough to make word lists look random.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5EED_5E1F_3A2C_0001)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// lo..=hi
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + self.below((hi - lo + 1).max(1) as usize) as i32
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn word(&mut self, words: &[&'static str]) -> &'static str {
        words[self.below(words.len())]
    }

    fn weighted<'a, T>(&mut self, items: &'a [(u32, T)]) -> &'a T {
        let total: u32 = items.iter().map(|(w, _)| w).sum();
        let mut roll = self.below(total as usize) as u32;
        for (w, item) in items {
            if roll < *w {
                return item;
            }
            roll -= w;
        }
        &items[items.len() - 1].1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    AdultFiction,
    AdultNonfiction,
    PictureBook,
    JuvenileFiction,
    JuvenileNonfiction,
    YoungAdult,
    LargePrint,
    Dvd,
    AudiobookCd,
    MusicCd,
    Magazine,
    Reference,
    Laptop,
}

/// How a public library's catalog divides up, in per mille.
const KINDS: &[(u32, Kind)] = &[
    (330, Kind::AdultFiction),
    (240, Kind::AdultNonfiction),
    (70, Kind::PictureBook),
    (45, Kind::JuvenileFiction),
    (45, Kind::JuvenileNonfiction),
    (55, Kind::YoungAdult),
    (50, Kind::LargePrint),
    (70, Kind::Dvd),
    (40, Kind::AudiobookCd),
    (30, Kind::MusicCd),
    (12, Kind::Magazine),
    (13, Kind::Reference),
];

struct Person {
    first: &'static str,
    last: &'static str,
    born: i32,
}

impl Person {
    fn name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }

    fn inverted(&self) -> String {
        format!("{}, {}", self.last, self.first)
    }

    /// 100/700 1_ with dates and a relator term.
    fn field(&self, tag_: &str, relator: &str) -> DataField {
        DataField::new(tag(tag_), '1', ' ')
            .with('a', format!("{},", self.inverted()))
            .with('d', format!("{}-", self.born))
            .with('e', format!("{relator}."))
    }
}

struct Publisher {
    place: &'static str,
    country: &'static str,
    name: &'static str,
}

const fn p(place: &'static str, country: &'static str, name: &'static str) -> Publisher {
    Publisher { place, country, name }
}

const TRADE: &[Publisher] = &[
    p("New York", "nyu", "Harbor Lane Press"),
    p("New York", "nyu", "Meridian House"),
    p("New York", "nyu", "Greyfriars Books"),
    p("Boston", "mau", "Northfield Books"),
    p("Chicago", "ilu", "Copperbeech Publishing"),
    p("Minneapolis", "mnu", "Blue Heron Books"),
    p("San Francisco", "cau", "Lantern & Quill"),
    p("London", "enk", "Stonebridge Press"),
    p("Toronto", "onc", "Maple Leaf Editions"),
];
const CHILDRENS: &[Publisher] = &[
    p("New York", "nyu", "Little Acorn Books"),
    p("Boston", "mau", "Puddle Jump Press"),
    p("New York", "nyu", "Firefly Teen"),
    p("Chicago", "ilu", "Treehouse Editions"),
];
const ACADEMIC: &[Publisher] = &[
    p("Berkeley", "cau", "Redwood University Press"),
    p("Chicago", "ilu", "Lakeshore Reference"),
    p("Oxford", "enk", "Cherwell Academic"),
];
const STUDIOS: &[Publisher] = &[
    p("Burbank, California", "cau", "Silver Screen Home Entertainment"),
    p("New York", "nyu", "Northern Lights Films"),
    p("Santa Monica, California", "cau", "Pacific Coast Pictures"),
];
const AUDIO: &[Publisher] =
    &[p("New York", "nyu", "Listening Room Audio"), p("Grand Haven, Michigan", "miu", "Bright Lake Audio")];
const LABELS: &[Publisher] = &[
    p("Nashville", "tnu", "Riverbend Records"),
    p("Los Angeles", "cau", "Blue Alley Records"),
    p("New York", "nyu", "Foghorn Music"),
];
const SPANISH: &[Publisher] =
    &[p("Barcelona", "sp ", "Ediciones del Faro"), p("Ciudad de México", "mx ", "Editorial Alameda")];

const FIRST: &[&str] = &[
    "Amelia", "James", "Sofia", "Daniel", "Grace", "Michael", "Olivia", "David", "Hannah", "Samuel", "Isabel",
    "Thomas", "Chloe", "Benjamin", "Naomi", "Elijah", "Priya", "Rohan", "Mei", "Wei", "Aisha", "Omar", "Fatima",
    "Yusuf", "Chiara", "Luca", "Ingrid", "Lars", "Keiko", "Hiroshi", "Ana", "Mateo", "Lucia", "Diego", "Zoe", "Nathan",
    "Ruth", "Walter", "Eleanor", "Henry", "Margaret", "George", "Clara", "Oscar", "Maya", "Julian", "Leah", "Adrian",
    "Rosa", "Felix", "Imani", "Malik", "Nia", "Kwame", "Siobhan", "Declan", "Anya", "Dmitri", "Helena", "Tobias",
    "Marisol", "Andre", "Beatrice", "Caleb", "Delia", "Evan", "Frances", "Gabriel", "Harriet", "Isaac", "Joan",
    "Kenji", "Laila", "Marcus", "Nora", "Patrick", "Quinn", "Rebecca", "Simone", "Theo",
];
const SURNAMES: &[&str] = &[
    "Abernathy",
    "Adeyemi",
    "Alvarez",
    "Anderson",
    "Baker",
    "Barlow",
    "Bennett",
    "Bishop",
    "Brennan",
    "Castillo",
    "Chen",
    "Clarke",
    "Coleman",
    "Dalton",
    "Delgado",
    "Donovan",
    "Ellison",
    "Evans",
    "Farrow",
    "Fitzgerald",
    "Fletcher",
    "Garcia",
    "Goldberg",
    "Greene",
    "Hale",
    "Hargrove",
    "Hayes",
    "Holloway",
    "Ibrahim",
    "Ingram",
    "Jensen",
    "Kaplan",
    "Kato",
    "Keller",
    "Kowalski",
    "Larsen",
    "Lindqvist",
    "Lowell",
    "Mackenzie",
    "Marsh",
    "Martinez",
    "McAllister",
    "Mendez",
    "Mercer",
    "Morrow",
    "Nakamura",
    "Novak",
    "Nwosu",
    "Okafor",
    "O'Brien",
    "Olsen",
    "Park",
    "Patel",
    "Pemberton",
    "Quigley",
    "Ramirez",
    "Reyes",
    "Rhodes",
    "Rossi",
    "Sandoval",
    "Schmidt",
    "Sharma",
    "Sinclair",
    "Sloane",
    "Sorensen",
    "Stone",
    "Sullivan",
    "Tanaka",
    "Thornton",
    "Underwood",
    "Valdez",
    "Vance",
    "Wakefield",
    "Walsh",
    "Whitaker",
    "Winslow",
    "Xu",
    "Yamamoto",
    "Young",
    "Zhang",
    "Zielinski",
    "Ashby",
    "Blackwood",
    "Carver",
    "Drummond",
    "Everly",
    "Foster",
    "Gallagher",
    "Hawthorne",
    "Ivanova",
    "Jordan",
    "Kingsley",
    "Lockhart",
    "Moreau",
    "Nash",
    "Osei",
    "Prescott",
    "Redding",
    "Sato",
    "Tremblay",
];
const ADJECTIVES: &[&str] = &[
    "Silent",
    "Hidden",
    "Last",
    "Lost",
    "Forgotten",
    "Quiet",
    "Burning",
    "Broken",
    "Golden",
    "Midnight",
    "Distant",
    "Wild",
    "Long",
    "Bright",
    "Invisible",
    "Paper",
    "Northern",
    "Second",
    "Secret",
    "Little",
    "Winter",
    "Crimson",
    "Hollow",
    "Salt",
    "Glass",
    "Summer",
    "Wandering",
    "Restless",
    "Sleeping",
    "Shattered",
    "Painted",
    "Iron",
    "Velvet",
    "Silver",
    "Drowned",
    "Borrowed",
    "Unfinished",
    "Evening",
    "Empty",
    "Faithful",
];
const NOUNS: &[&str] = &[
    "Orchard",
    "River",
    "Garden",
    "Lighthouse",
    "Harbor",
    "Daughter",
    "Keeper",
    "Letters",
    "Bridge",
    "Storm",
    "Shadow",
    "Mountain",
    "Island",
    "Kingdom",
    "Promise",
    "Night",
    "Fire",
    "Stone",
    "Crow",
    "Fox",
    "Wolf",
    "Bookshop",
    "Sisters",
    "Station",
    "Map",
    "Clockmaker",
    "Cartographer",
    "Tide",
    "Orphan",
    "Feather",
    "Lantern",
    "Road",
    "Hours",
    "House",
    "Widow",
    "Season",
    "Shore",
    "Forest",
    "Ferry",
    "Witness",
    "Vineyard",
    "Apprentice",
    "Beekeeper",
    "Violin",
    "Archive",
    "Compass",
    "Meadow",
    "Signal",
    "Hotel",
    "Silence",
    "Inheritance",
    "Tailor",
    "Winter",
    "Ashes",
    "Cathedral",
    "Frontier",
    "Gardener",
    "Harvest",
    "Mirror",
    "Passage",
];
const PLACES: &[&str] = &[
    "Lisbon",
    "Vermont",
    "Prague",
    "Savannah",
    "Kyoto",
    "the Highlands",
    "Ashford",
    "Cape Ann",
    "Tangier",
    "Galveston",
    "Maine",
    "Marrakesh",
    "Montana",
    "the Bayou",
    "Cornwall",
    "Havana",
    "Nantucket",
    "Oslo",
    "the Delta",
    "Santa Fe",
    "Whitby",
    "Trieste",
    "the Prairie",
    "Sicily",
    "Alaska",
];
const ANIMALS: &[&str] = &[
    "Bear", "Rabbit", "Duck", "Owl", "Fox", "Mouse", "Elephant", "Penguin", "Turtle", "Giraffe", "Hedgehog", "Otter",
    "Goose", "Pig", "Lion",
];
const KID_NAMES: &[&str] =
    &["Pip", "Ollie", "Rosie", "Max", "Lulu", "Benny", "Mabel", "Teddy", "Hazel", "Milo", "Juniper", "Ziggy"];

/// A fiction genre: its 655 heading, the themes its 650s draw from, and a share.
struct Genre {
    form: &'static str,
    themes: &'static [&'static str],
    mystery: bool,
}

const GENRES: &[(u32, Genre)] = &[
    (
        30,
        Genre {
            form: "Domestic fiction.",
            themes: &[
                "Families",
                "Sisters",
                "Mothers and daughters",
                "Marriage",
                "Small towns",
                "Secrets",
                "Inheritance and succession",
            ],
            mystery: false,
        },
    ),
    (
        22,
        Genre {
            form: "Detective and mystery fiction.",
            themes: &[
                "Murder -- Investigation",
                "Police",
                "Women detectives",
                "Missing persons",
                "Private investigators",
            ],
            mystery: true,
        },
    ),
    (
        15,
        Genre {
            form: "Historical fiction.",
            themes: &[
                "World War, 1939-1945",
                "Women -- History -- 19th century",
                "Immigrants",
                "Lighthouse keepers",
                "Shipwrecks",
            ],
            mystery: false,
        },
    ),
    (
        10,
        Genre {
            form: "Thrillers (Fiction)",
            themes: &["Espionage", "Conspiracies", "Kidnapping", "Fugitives from justice"],
            mystery: true,
        },
    ),
    (
        8,
        Genre {
            form: "Science fiction.",
            themes: &["Space colonies", "Time travel", "Artificial intelligence", "Interplanetary voyages"],
            mystery: false,
        },
    ),
    (
        8,
        Genre {
            form: "Fantasy fiction.",
            themes: &["Magic", "Dragons", "Quests (Expeditions)", "Kings and rulers"],
            mystery: false,
        },
    ),
    (
        7,
        Genre {
            form: "Romance fiction.",
            themes: &["Man-woman relationships", "Bookstores", "Weddings", "Second chances"],
            mystery: false,
        },
    ),
];

/// A non-fiction subject: heading (with subdivisions), Dewey number, LC class, the topic as it
/// reads in a title, and titles a cataloger would recognise.
struct Subject {
    heading: &'static [&'static str],
    dewey: &'static str,
    lc: &'static str,
    topic: &'static str,
    titles: &'static [&'static str],
}

const fn s(
    heading: &'static [&'static str],
    dewey: &'static str,
    lc: &'static str,
    topic: &'static str,
    titles: &'static [&'static str],
) -> Subject {
    Subject { heading, dewey, lc, topic, titles }
}

const SUBJECTS: &[Subject] = &[
    s(&["Cooking"], "641.5", "TX714", "Cooking", &["The Weeknight Kitchen", "Salt and Smoke", "Simple Suppers"]),
    s(&["Baking"], "641.815", "TX763", "Baking", &["Bread Every Day", "The Sourdough Year", "Flour, Water, Time"]),
    s(&["Vegetarian cooking"], "641.5636", "TX837", "Vegetarian Cooking", &["The Green Table", "Plants on the Plate"]),
    s(
        &["Gardening"],
        "635",
        "SB453",
        "Gardening",
        &["The Backyard Harvest", "Dirt Under My Nails", "The Small-Space Garden"],
    ),
    s(
        &["Birds", "North America", "Identification"],
        "598.097",
        "QL681",
        "Bird Watching",
        &["Birds of the Northeast", "Field Guide to Backyard Birds"],
    ),
    s(
        &["World War, 1939-1945"],
        "940.53",
        "D743",
        "World War II",
        &["The Longest Winter", "Brothers in Arms", "The Home Front"],
    ),
    s(
        &["United States", "History", "Civil War, 1861-1865"],
        "973.7",
        "E468",
        "the Civil War",
        &["A House Divided", "The Road to Appomattox"],
    ),
    s(
        &["Finance, Personal"],
        "332.024",
        "HG179",
        "Personal Finance",
        &["Money Without Fear", "The Debt-Free Household", "Saving for Tomorrow"],
    ),
    s(
        &["Mindfulness (Psychology)"],
        "158.13",
        "BF637.M56",
        "Mindfulness",
        &["The Present Moment", "Ten Minutes of Quiet"],
    ),
    s(
        &["Computer programming"],
        "005.13",
        "QA76.6",
        "Programming",
        &["Code You Can Read", "Learning to Program", "The Pragmatic Beginner"],
    ),
    s(&["Astronomy"], "520", "QB43.3", "Astronomy", &["The Night Sky Month by Month", "Cosmic Neighbors"]),
    s(&["Dinosaurs"], "567.9", "QE861.4", "Dinosaurs", &["The Age of Giants", "Feathered Dragons"]),
    s(&["Climatic changes"], "363.73874", "QC903", "Climate Change", &["The Warming World", "Heat and Water"]),
    s(&["Parenting"], "649.1", "HQ755.8", "Parenting", &["The Calm Parent", "Raising Readers", "The First Five Years"]),
    s(&["Dogs", "Training"], "636.70887", "SF431", "Dog Training", &["Good Dog", "The Happy Puppy Handbook"]),
    s(&["Running"], "796.42", "GV1061", "Running", &["Your First Marathon", "Run Happy"]),
    s(&["Italy", "Description and travel"], "914.504", "DG430", "Italy", &["A Year in Tuscany", "Roman Holidays"]),
    s(&["Japan", "Description and travel"], "915.204", "DS811", "Japan", &["Trains to Kyoto", "The Quiet Islands"]),
    s(
        &["Presidents", "United States", "Biography"],
        "973.099",
        "E176.1",
        "the Presidency",
        &["The Oval Office", "Commanders in Chief"],
    ),
    s(&["Nutrition"], "613.2", "RA784", "Nutrition", &["Eat to Thrive", "The Whole Food Pantry"]),
    s(&["Photography"], "770", "TR146", "Photography", &["Seeing in Light", "The Photographer's Eye"]),
    s(&["Knitting", "Patterns"], "746.432", "TT825", "Knitting", &["Cozy Knits", "Sweaters for All Seasons"]),
    s(&["Ocean"], "551.46", "GC21", "the Ocean", &["The Deep Blue", "Tides and Currents"]),
    s(
        &["Philosophy, Ancient"],
        "180",
        "B171",
        "Ancient Philosophy",
        &["Conversations with Socrates", "The Stoic Path"],
    ),
    s(
        &["Dwellings", "Maintenance and repair", "Amateurs' manuals"],
        "643.7",
        "TH4817",
        "Home Repair",
        &["Fix It Yourself", "The Weekend Handyman"],
    ),
    s(&["Mathematics", "Popular works"], "510", "QA93", "Mathematics", &["The Beauty of Numbers", "Everyday Math"]),
    s(&["Sleep"], "612.821", "QP425", "Sleep", &["Why We Dream", "The Rested Mind"]),
    s(
        &["Small business", "Management"],
        "658.022",
        "HD62.7",
        "Small Business",
        &["Main Street Entrepreneur", "Open for Business"],
    ),
    s(&["Genealogy"], "929.1", "CS16", "Genealogy", &["Finding Your Roots", "The Family Tree Detective"]),
    s(&["Art", "History"], "709", "N5300", "Art History", &["Masterpieces Explained", "The Story of Painting"]),
    s(&["Jazz", "History and criticism"], "781.6509", "ML3506", "Jazz", &["Blue Notes", "Swing Era"]),
    s(&["Job hunting"], "650.14", "HF5382.7", "Job Hunting", &["The Résumé That Works", "Landing the Interview"]),
    s(&["English language", "Grammar"], "428.2", "PE1112", "English Grammar", &["Commas Matter", "Plain Words"]),
    s(
        &["Spanish language", "Textbooks for foreign speakers", "English"],
        "468.2421",
        "PC4129.E5",
        "Spanish",
        &["Spanish in Thirty Days", "Conversational Spanish"],
    ),
    s(&["Poetry"], "808.81", "PN6101", "Poetry", &["How to Read a Poem", "The Poet's Notebook"]),
];

const CHILD_SUBJECTS: &[Subject] = &[
    s(&["Sharks", "Juvenile literature"], "597.3", "QL638.9", "Sharks", &["Shark Attack!"]),
    s(&["Volcanoes", "Juvenile literature"], "551.21", "QE521.3", "Volcanoes", &["Inside a Volcano"]),
    s(&["Space flight", "Juvenile literature"], "629.45", "TL793", "Space", &["Blast Off!"]),
    s(&["Dinosaurs", "Juvenile literature"], "567.9", "QE861.5", "Dinosaurs", &["Dino Dig"]),
    s(&["Insects", "Juvenile literature"], "595.7", "QL467.2", "Bugs", &["Creepy Crawlies"]),
    s(&["Weather", "Juvenile literature"], "551.6", "QC981.3", "Weather", &["Wild Weather"]),
    s(&["Skeleton", "Juvenile literature"], "611.71", "QM101", "Skeletons", &["How Your Bones Work"]),
    s(&["Egypt", "Antiquities", "Juvenile literature"], "932", "DT61", "Ancient Egypt", &["Mummies and Pyramids"]),
    s(&["Trucks", "Juvenile literature"], "629.224", "TL230.15", "Trucks", &["Big Rigs"]),
    s(&["Horses", "Juvenile literature"], "636.1", "SF302", "Horses", &["Galloping Horses"]),
];

const NONFICTION_TITLES: &[&str] = &[
    "The Complete Guide to {}",
    "{} Made Simple",
    "Understanding {}",
    "The Joy of {}",
    "{}: The Basics",
    "A Short History of {}",
    "Everyday {}",
    "The Essential {} Handbook",
    "{} for Beginners",
    "Thinking About {}",
    "The New Book of {}",
    "Rethinking {}",
];
const NONFICTION_SUBTITLES: &[&str] = &[
    "a practical guide",
    "what everyone needs to know",
    "an illustrated history",
    "tips, techniques, and projects",
    "a beginner's guide",
    "new perspectives",
    "the essential reference",
    "lessons from a lifetime",
    "a hands-on introduction",
];
const CHILD_NF_TITLES: &[&str] =
    &["All About {}", "The Big Book of {}", "Amazing {}", "My First Book of {}", "Discovering {}", "{} Up Close"];

const MAGAZINES: &[(&str, &str, &str)] = &[
    // (title, Dewey, subject)
    ("Backyard Birding", "598.05", "Birds"),
    ("Modern Kitchen", "641.505", "Cooking"),
    ("Trail & Summit", "796.5105", "Hiking"),
    ("Home Workshop", "643.705", "Dwellings"),
    ("Garden Path", "635.05", "Gardening"),
    ("Young Explorer", "505", "Science"),
    ("Tech Today", "004.05", "Computers"),
    ("Smart Money Monthly", "332.02405", "Finance, Personal"),
    ("Quilting Circle", "746.4605", "Quilting"),
    ("The Riverton Review", "051", "American periodicals"),
    ("Sky & Stars", "520.5", "Astronomy"),
    ("Coastal Living Today", "747.05", "Interior decoration"),
];

const REFERENCE: &[(&str, &str, &str, &str)] = &[
    // (title, Dewey, LC class, subject)
    ("The Riverton Encyclopedia", "031", "AE5", "Encyclopedias and dictionaries"),
    ("World Almanac of Facts", "031.02", "AY64", "Almanacs, American"),
    ("Dictionary of the English Language", "423", "PE1628", "English language -- Dictionaries"),
    ("Atlas of the World", "912", "G1021", "World atlases"),
    ("Encyclopedia of American History", "973.03", "E174", "United States -- History -- Encyclopedias"),
    ("Dictionary of Quotations", "808.882", "PN6081", "Quotations, English"),
    ("The Medical Reference Handbook", "616.003", "RC41", "Medicine, Popular -- Encyclopedias"),
    ("Encyclopedia of World Religions", "200.3", "BL31", "Religions -- Encyclopedias"),
    ("Guide to Birds of the World", "598.03", "QL673", "Birds -- Encyclopedias"),
    ("Biographical Dictionary of Scientists", "509.22", "Q141", "Scientists -- Biography -- Dictionaries"),
];

/// (008/18-19 form of composition, Dewey, subject heading, spine genre)
const MUSIC: &[(&str, &str, &str, &str)] = &[
    ("rc", "781.66", "Rock music -- 2011-2020.", "ROCK"),
    ("jz", "781.65", "Jazz -- 2011-2020.", "JAZZ"),
    ("cy", "781.642", "Country music -- 2011-2020.", "COUNTRY"),
    ("pp", "782.42164", "Popular music -- 2011-2020.", "POP"),
    ("fm", "781.62", "Folk music -- United States.", "FOLK"),
    ("sy", "784.2", "Symphonies.", "CLASSICAL"),
];

const SUMMARY_GOALS: &[&str] = &[
    "settle her late mother's estate",
    "restore a crumbling family inn",
    "find a missing sister",
    "start over after a divorce",
    "solve a decades-old disappearance",
    "take over the town newspaper",
    "care for an ailing father",
    "escape a dangerous past",
];
const SUMMARY_TWISTS: &[&str] = &[
    "a box of letters that changes everything she believed about her family",
    "that the quiet neighbor knows more than he admits",
    "a secret buried since the war",
    "that someone is willing to kill to keep the past hidden",
    "an unlikely friendship that saves them both",
    "a map that leads to an old injustice",
];

struct Generator {
    rng: Rng,
    isbns: HashSet<String>,
    next_barcode: u32,
    next_control: u32,
}

/// The Luhn (mod 10) check digit of a string of digits, as library Codabar barcodes use it.
fn luhn_check(digits: &str) -> u32 {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let mut d = c.to_digit(10).unwrap_or(0);
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    (10 - sum % 10) % 10
}

fn isbn13_check(first12: &str) -> u32 {
    let sum: u32 =
        first12.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap_or(0) * if i % 2 == 0 { 1 } else { 3 }).sum();
    (10 - sum % 10) % 10
}

fn issn_check(first7: &str) -> char {
    let sum: u32 = first7.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap_or(0) * (8 - i as u32)).sum();
    match (11 - sum % 11) % 11 {
        10 => 'X',
        d => char::from_digit(d, 10).unwrap_or('0'),
    }
}

/// An LC-style Cutter number for a name (`King` -> `K56`, `Okafor` -> `O33`), following the
/// Library of Congress Cutter table for the second letter and its expansion for the third.
fn cutter(name: &str) -> String {
    let letters: Vec<char> = name.chars().filter(|c| c.is_ascii_alphabetic()).map(|c| c.to_ascii_lowercase()).collect();
    let Some(&first) = letters.first() else {
        return "A1".to_string();
    };
    let second = letters.get(1).copied().unwrap_or('a');
    let vowel = "aeiou".contains(first);
    // The letter after the ones the first digit stands for gives the second digit.
    let mut next = 2;
    let d2 = if vowel {
        match second {
            'a'..='c' => 2,
            'd'..='k' => 3,
            'l' | 'm' => 4,
            'n' | 'o' => 5,
            'p' | 'q' => 6,
            'r' => 7,
            's' | 't' => 8,
            _ => 9,
        }
    } else if first == 's' {
        match second {
            'a' | 'b' => 2,
            'c' if letters.get(2) == Some(&'h') => {
                next = 3;
                3
            }
            'c' => 2,
            'd' => 3,
            'e'..='g' => 4,
            'h'..='l' => 5,
            'm'..='s' => 6,
            't' => 7,
            'u' | 'v' => 8,
            _ => 9,
        }
    } else if first == 'q' && second == 'u' {
        next = 3;
        match letters.get(2).copied().unwrap_or('a') {
            'a'..='d' => 3,
            'e'..='h' => 4,
            'i'..='n' => 5,
            'o'..='q' => 6,
            'r' | 's' => 7,
            't'..='x' => 8,
            _ => 9,
        }
    } else {
        match second {
            'a'..='d' => 3,
            'e'..='h' => 4,
            'i'..='n' => 5,
            'o'..='q' => 6,
            'r'..='t' => 7,
            'u'..='x' => 8,
            _ => 9,
        }
    };
    let d3 = match letters.get(next).copied().unwrap_or('a') {
        'a'..='d' => 3,
        'e'..='h' => 4,
        'i'..='l' => 5,
        'm'..='o' => 6,
        'p'..='s' => 7,
        't'..='v' => 8,
        _ => 9,
    };
    format!("{}{d2}{d3}", first.to_ascii_uppercase())
}

/// "A" or "An" before `word`.
fn article(word: &str) -> &'static str {
    if word.starts_with(['A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u']) {
        "An"
    } else {
        "A"
    }
}

/// The English plural of a word from the lists (already plural words stay as they are).
fn plural(word: &str) -> String {
    match word {
        "Goose" => "Geese".into(),
        "Mouse" => "Mice".into(),
        "Wolf" => "Wolves".into(),
        "Fox" => "Foxes".into(),
        "Witness" => "Witnesses".into(),
        "Compass" => "Compasses".into(),
        "Passage" => "Passages".into(),
        w if w.ends_with('s') => w.into(),
        w if w.ends_with('y') && !w.ends_with("ey") => format!("{}ies", &w[..w.len() - 1]),
        w => format!("{w}s"),
    }
}

/// Puts a topic into a title template: "the Ocean" keeps its article after "of", "to",
/// "About" and the like, opens a title as "The Ocean", and drops it elsewhere
/// ("Everyday Ocean" rather than "Everyday the Ocean").
fn fill_title(template: &str, topic: &str) -> String {
    let Some(bare) = topic.strip_prefix("the ") else {
        return template.replace("{}", topic);
    };
    if template.starts_with("{}") {
        return template.replacen("{}", &format!("The {bare}"), 1);
    }
    let before = template.split("{}").next().unwrap_or("").trim_end();
    let keeps_article =
        ["to", "of", "About", "Understanding", "Rethinking", "Discovering"].iter().any(|w| before.ends_with(w));
    template.replace("{}", if keeps_article { topic } else { bare })
}

/// 008/18-34 for books.
fn book_material(
    illustrated: bool,
    audience: char,
    form: char,
    contents: &str,
    index: bool,
    literary_form: char,
) -> String {
    let illus = if illustrated { "a" } else { "" };
    let m = format!("{illus:<4}{audience}{form}{contents:<4} 00{} {literary_form} ", if index { '1' } else { '0' });
    debug_assert_eq!(m.len(), 17);
    m
}

/// 008/18-34 for visual materials (videos, realia).
fn visual_material(running_time: &str, audience: char, kind: char, technique: char) -> String {
    format!("{running_time:<3} {audience}{:5}  {:3}{kind}{technique}", "", "")
}

/// 008/18-34 for music and sound recordings.
fn music_material(composition: &str, literary_text: &str) -> String {
    format!("{composition:<2}nn  {:6}{literary_text:<2} n ", "")
}

/// The first word of a title that is not an article, for call numbers and title Cutters.
fn first_significant_word(title: &str) -> &str {
    let mut words = title.split_whitespace();
    let first = words.next().unwrap_or("");
    if matches!(first, "The" | "A" | "An" | "La" | "El" | "Los" | "Las") {
        words.next().unwrap_or(first)
    } else {
        first
    }
}

/// 245 second indicator: characters to skip when filing.
fn nonfiling(title: &str) -> char {
    for (article, n) in
        [("The ", '4'), ("An ", '3'), ("A ", '2'), ("La ", '3'), ("El ", '3'), ("Los ", '4'), ("Las ", '4')]
    {
        if title.starts_with(article) {
            return n;
        }
    }
    '0'
}

fn spine_word(s: &str, len: usize) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).take(len).collect::<String>().to_uppercase()
}

/// An item as the 952 will say it.
struct ItemPlan {
    item_type: &'static str,
    location: &'static str,
    collection: &'static str,
    call_number: String,
    price_cents: (i32, i32),
    copies: usize,
}

/// What a record is about, for the item plan and the call numbers.
struct Cataloged {
    record: Record,
    plan: ItemPlan,
    year: i32,
}

impl Generator {
    fn person(&mut self) -> Person {
        Person { first: self.rng.word(FIRST), last: self.rng.word(SURNAMES), born: self.rng.range(1938, 1994) }
    }

    fn isbn(&mut self) -> String {
        loop {
            let group = if self.rng.chance(70) { "9780" } else { "9781" };
            let body = format!("{group}{:08}", self.rng.below(100_000_000));
            let isbn = format!("{body}{}", isbn13_check(&body));
            if self.isbns.insert(isbn.clone()) {
                return isbn;
            }
        }
    }

    fn issn(&mut self) -> String {
        let body = format!("{:07}", self.rng.below(10_000_000));
        format!("{}-{}{}", &body[..4], &body[4..], issn_check(&body))
    }

    fn barcode(&mut self) -> String {
        let body = format!("31234{:08}", self.next_barcode);
        self.next_barcode += 1;
        format!("{body}{}", luhn_check(&body))
    }

    fn price(&mut self, (lo, hi): (i32, i32)) -> String {
        // Prices end the way shops price things: .95, .99, .00, .98.
        let whole = self.rng.range(lo, hi);
        let cents = *self.rng.pick(&[95, 99, 0, 98, 50]);
        format!("{whole}.{cents:02}")
    }

    fn fiction_title(&mut self, genre: &Genre) -> String {
        let adj = self.rng.pick(ADJECTIVES);
        let noun = self.rng.pick(NOUNS);
        let noun2 = self.rng.pick(NOUNS);
        let place = self.rng.pick(PLACES);
        if genre.mystery && self.rng.chance(50) {
            return match self.rng.below(5) {
                0 => format!("Death in {place}"),
                1 => format!("Murder at the {noun}"),
                2 => format!("The {place} Affair"),
                3 => format!("{} {adj} Grave", article(adj)),
                _ => format!("The {noun} Vanishes"),
            };
        }
        match self.rng.below(9) {
            0 => format!("The {adj} {noun}"),
            1 => format!("The {noun}'s {noun2}"),
            2 => format!("{} {noun} in {place}", article(noun)),
            3 => format!("{adj} {noun}"),
            4 => format!("What the {noun} Knew"),
            5 => format!("The Last {noun} of {place}"),
            6 => format!("The {noun} and the {noun2}"),
            7 => format!("All the {adj} Hours"),
            _ => format!("The {adj} {noun} of {place}"),
        }
    }

    fn spanish_title(&mut self) -> String {
        let nouns = ["casa", "ciudad", "memoria", "noche", "isla", "sombra", "voz", "tierra", "frontera", "lluvia"];
        let of =
            ["los espejos", "las mariposas", "mi padre", "la montaña", "los olvidados", "agosto", "las olas", "nadie"];
        format!("La {} de {}", self.rng.pick(&nouns), self.rng.pick(&of))
    }

    /// Leader, 001, 003, 005, 008 and the optional 007.
    fn start(&mut self, record_type: u8, level: u8, f007: Option<&str>, f008: String, acquired_year: i32) -> Record {
        let mut leader = Leader::new_bibliographic();
        leader.set(5, b'n');
        leader.set(6, record_type);
        leader.set(7, level);
        let mut r = Record::new(leader);
        r.push_control(tag("001"), format!("rpl{:08}", self.next_control));
        self.next_control += 1;
        r.push_control(tag("003"), ORG);
        let stamp = format!(
            "{acquired_year}{:02}{:02}{:02}{:02}{:02}.0",
            self.rng.range(1, 12),
            self.rng.range(1, 28),
            self.rng.range(8, 17),
            self.rng.range(0, 59),
            self.rng.range(0, 59)
        );
        r.push_control(tag("005"), stamp);
        if let Some(f) = f007 {
            r.push_control(tag("007"), f);
        }
        r.push_control(tag("008"), f008);
        r
    }

    /// 008: `entered` yymmdd, date type and dates, place, the 17 format-specific positions
    /// 18-34, language.
    fn f008(
        &mut self,
        date_type: char,
        date1: i32,
        date2: &str,
        place: &str,
        material: &str,
        language: &str,
    ) -> String {
        let entered = format!("{:02}{:02}{:02}", (date1.max(2000) % 100), self.rng.range(1, 12), self.rng.range(1, 28));
        let f = format!("{entered}{date_type}{date1}{date2:<4}{place:<3}{material}{language} d");
        debug_assert_eq!(f.len(), 40, "{f:?}");
        f
    }

    fn common_040(&self, r: &mut Record) {
        r.push_data(
            DataField::new(tag("040"), ' ', ' ').with('a', ORG).with('b', "eng").with('e', "rda").with('c', ORG),
        );
    }

    fn title_field(&self, title: &str, subtitle: Option<&str>, responsibility: &str, added_entry: bool) -> DataField {
        let mut f = DataField::new(tag("245"), if added_entry { '1' } else { '0' }, nonfiling(title));
        match subtitle {
            Some(sub) => {
                f = f.with('a', format!("{title} :")).with('b', format!("{sub} /"));
            }
            None => f = f.with('a', format!("{title} /")),
        }
        f.with('c', format!("{responsibility}."))
    }

    fn publication(&self, publisher: &Publisher, year: i32) -> DataField {
        DataField::new(tag("264"), ' ', '1')
            .with('a', format!("{} :", publisher.place))
            .with('b', format!("{},", publisher.name))
            .with('c', year.to_string())
    }

    fn rda(&self, r: &mut Record, content: (&str, &str), media: (&str, &str), carrier: (&str, &str)) {
        for (t, (term, c)) in [("336", content), ("337", media), ("338", carrier)] {
            let source = match t {
                "336" => "rdacontent",
                "337" => "rdamedia",
                _ => "rdacarrier",
            };
            r.push_data(DataField::new(tag(t), ' ', ' ').with('a', term).with('b', c).with('2', source));
        }
    }

    /// 050 _4 for non-fiction: class in $a, the main entry's Cutter and the year in $b
    /// (`QL681 .S65 2018`).
    fn lc_call_number(&self, class: &str, main_entry: &str, year: i32) -> DataField {
        DataField::new(tag("050"), ' ', '4')
            .with('a', class.to_string())
            .with('b', format!(".{} {year}", cutter(main_entry)))
    }

    /// 050 _4 for an American novelist of this century: PS3601-PS3626 by the surname's initial,
    /// the rest of the surname as the author Cutter, then the title Cutter and year
    /// (`PS3611.I56 S55 2019`).
    fn lc_fiction(&self, surname: &str, title: &str, year: i32) -> DataField {
        let initial = surname.bytes().next().unwrap_or(b'A').to_ascii_uppercase();
        let class = 3601 + u32::from(initial.saturating_sub(b'A').min(25));
        DataField::new(tag("050"), ' ', '4')
            .with('a', format!("PS{class}.{}", cutter(&surname[1..])))
            .with('b', format!("{} {year}", cutter(first_significant_word(title))))
    }

    fn record(&mut self, kind: Kind) -> Record {
        let c = match kind {
            Kind::AdultFiction => self.fiction_book(false),
            Kind::LargePrint => self.fiction_book(true),
            Kind::AdultNonfiction => self.nonfiction_book(),
            Kind::PictureBook => self.picture_book(),
            Kind::JuvenileFiction => self.juvenile_fiction(),
            Kind::JuvenileNonfiction => self.juvenile_nonfiction(),
            Kind::YoungAdult => self.young_adult(),
            Kind::Dvd => self.dvd(),
            Kind::AudiobookCd => self.audiobook(),
            Kind::MusicCd => self.music_cd(),
            Kind::Magazine => self.magazine(),
            Kind::Reference => self.reference(),
            Kind::Laptop => self.laptop(),
        };
        self.add_items(c)
    }

    fn fiction_book(&mut self, large_print: bool) -> Cataloged {
        let genre = self.rng.weighted(GENRES);
        let author = self.person();
        let spanish = !large_print && self.rng.chance(4);
        let title = if spanish { self.spanish_title() } else { self.fiction_title(genre) };
        let subtitle = (!spanish && self.rng.chance(25)).then_some("a novel");
        let year = self.rng.range(1995, DEMO_YEAR);
        let publisher = if spanish { self.rng.pick(SPANISH) } else { self.rng.pick(TRADE) };
        let language = if spanish { "spa" } else { "eng" };
        let material = book_material(false, 'e', if large_print { 'd' } else { ' ' }, "", false, '1');
        let f008 = self.f008('s', year, "", publisher.country, &material, language);
        let mut r = self.start(b'a', b'm', large_print.then_some("tb"), f008, year.max(2000));
        r.push_data(
            DataField::new(tag("020"), ' ', ' ')
                .with('a', self.isbn())
                .with('q', if large_print { "(large print ; paperback)" } else { "(hardcover)" }),
        );
        self.common_040(&mut r);
        r.push_data(self.lc_fiction(author.last, &title, year));
        r.push_data(DataField::new(tag("082"), '0', '4').with('a', "813/.6").with('2', "23"));
        r.push_data(author.field("100", "author"));
        r.push_data(self.title_field(&title, subtitle, &author.name(), true));
        if large_print {
            r.push_data(DataField::new(tag("250"), ' ', ' ').with('a', "Large print edition."));
        } else if self.rng.chance(20) {
            r.push_data(DataField::new(tag("250"), ' ', ' ').with('a', "First edition."));
        }
        r.push_data(self.publication(publisher, year));
        let pages = self.rng.range(180, 520);
        let (pages, size) =
            if large_print { (pages * 3 / 2, "24 cm") } else { (pages, self.rng.word(&["22 cm", "24 cm", "25 cm"])) };
        r.push_data(
            DataField::new(tag("300"), ' ', ' ')
                .with(
                    'a',
                    if large_print { format!("{pages} pages (large print) ;") } else { format!("{pages} pages ;") },
                )
                .with('c', size),
        );
        self.rda(&mut r, ("text", "txt"), ("unmediated", "n"), ("volume", "nc"));
        let series = self.rng.chance(20).then(|| {
            let name = if genre.mystery {
                {
                    let place = self.rng.pick(PLACES).trim_start_matches("the ");
                    format!("{} {place} mystery", article(place))
                }
            } else {
                format!("The {} chronicles", self.rng.pick(NOUNS).to_lowercase())
            };
            (name, self.rng.range(1, 9))
        });
        if let Some((name, n)) = &series {
            r.push_data(
                DataField::new(tag("490"), '1', ' ').with('a', format!("{name} ;")).with('v', format!("book {n}")),
            );
        }
        if spanish {
            r.push_data(DataField::new(tag("546"), ' ', ' ').with('a', "In Spanish."));
        }
        if self.rng.chance(70) {
            let who = self.rng.pick(FIRST);
            let summary = format!(
                "When {who} returns to {} to {}, {} discovers {}.",
                self.rng.pick(PLACES),
                self.rng.pick(SUMMARY_GOALS),
                if self.rng.chance(50) { "she" } else { "he" },
                self.rng.pick(SUMMARY_TWISTS)
            );
            r.push_data(DataField::new(tag("520"), ' ', ' ').with('a', summary));
        }
        let theme = self.rng.pick(genre.themes);
        r.push_data(subject_field(theme, Some("Fiction.")));
        if self.rng.chance(40) {
            r.push_data(
                DataField::new(tag("651"), ' ', '0')
                    .with('a', self.rng.pick(PLACES).trim_start_matches("the ").to_string())
                    .with('v', "Fiction."),
            );
        }
        r.push_data(DataField::new(tag("655"), ' ', '7').with('a', genre.form).with('2', "lcgft"));
        if large_print {
            r.push_data(DataField::new(tag("655"), ' ', '7').with('a', "Large type books.").with('2', "lcgft"));
        }
        if let Some((name, n)) = series {
            r.push_data(
                DataField::new(tag("830"), ' ', '0').with('a', format!("{name} ;")).with('v', format!("bk. {n}.")),
            );
        }
        let surname = spine_word(author.last, 20);
        let plan = if large_print {
            ItemPlan {
                item_type: "LP",
                location: "LP",
                collection: "LP",
                call_number: format!("LP FIC {surname}"),
                price_cents: (26, 36),
                copies: 0,
            }
        } else {
            ItemPlan {
                item_type: "BK",
                location: "AF",
                collection: "FIC",
                call_number: format!("FIC {surname}"),
                price_cents: (15, 32),
                copies: 0,
            }
        };
        Cataloged { record: r, plan, year }
    }

    fn nonfiction_book(&mut self) -> Cataloged {
        let subject = self.rng.pick(SUBJECTS);
        let author = self.person();
        let (title, subtitle) = if self.rng.chance(30) {
            (self.rng.pick(subject.titles).to_string(), Some(self.rng.pick(NONFICTION_SUBTITLES).to_string()))
        } else {
            let t = fill_title(self.rng.word(NONFICTION_TITLES), subject.topic);
            (t, self.rng.chance(60).then(|| self.rng.pick(NONFICTION_SUBTITLES).to_string()))
        };
        let year = self.rng.range(1990, DEMO_YEAR);
        let academic = self.rng.chance(15);
        let publisher = if academic { self.rng.pick(ACADEMIC) } else { self.rng.pick(TRADE) };
        let bibliography = self.rng.chance(60);
        let index = self.rng.chance(70);
        let illustrated = self.rng.chance(50);
        let material = book_material(illustrated, 'e', ' ', if bibliography { "b" } else { "" }, index, '0');
        let f008 = self.f008('s', year, "", publisher.country, &material, "eng");
        let mut r = self.start(b'a', b'm', None, f008, year.max(2000));
        r.push_data(DataField::new(tag("020"), ' ', ' ').with('a', self.isbn()));
        self.common_040(&mut r);
        if academic || self.rng.chance(40) {
            r.push_data(self.lc_call_number(subject.lc, author.last, year));
        }
        r.push_data(DataField::new(tag("082"), '0', '4').with('a', subject.dewey).with('2', "23"));
        r.push_data(author.field("100", "author"));
        r.push_data(self.title_field(&title, subtitle.as_deref(), &author.name(), true));
        if self.rng.chance(15) {
            r.push_data(
                DataField::new(tag("250"), ' ', ' ')
                    .with('a', format!("{} edition.", self.rng.pick(&["Second", "Third", "Revised", "Updated"]))),
            );
        }
        r.push_data(self.publication(publisher, year));
        let pages = self.rng.range(120, 480);
        let mut f300 = DataField::new(tag("300"), ' ', ' ')
            .with('a', format!("{pages} pages :"))
            .with('b', "illustrations ;")
            .with('c', "24 cm");
        if !illustrated {
            f300 = DataField::new(tag("300"), ' ', ' ').with('a', format!("{pages} pages ;")).with('c', "23 cm");
        }
        r.push_data(f300);
        self.rda(&mut r, ("text", "txt"), ("unmediated", "n"), ("volume", "nc"));
        if self.rng.chance(10) {
            let series = format!("{} essentials", subject.topic.trim_start_matches("the "));
            let n = self.rng.range(1, 20);
            r.push_data(DataField::new(tag("490"), '1', ' ').with('a', format!("{series} ;")).with('v', n.to_string()));
            r.push_data(
                DataField::new(tag("830"), ' ', '0').with('a', format!("{series} ;")).with('v', format!("{n}.")),
            );
        }
        match (bibliography, index) {
            (true, true) => r.push_data(
                DataField::new(tag("504"), ' ', ' ').with('a', "Includes bibliographical references and index."),
            ),
            (true, false) => {
                r.push_data(DataField::new(tag("504"), ' ', ' ').with('a', "Includes bibliographical references."))
            }
            (false, true) => r.push_data(DataField::new(tag("500"), ' ', ' ').with('a', "Includes index.")),
            (false, false) => {}
        }
        r.push_data(heading_field(subject.heading));
        let plan = ItemPlan {
            item_type: "BK",
            location: "ANF",
            collection: "NF",
            call_number: format!("{} {}", subject.dewey, spine_word(author.last, 3)),
            price_cents: (16, 38),
            copies: 0,
        };
        Cataloged { record: r, plan, year }
    }

    fn picture_book(&mut self) -> Cataloged {
        let author = self.person();
        let animal = self.rng.pick(ANIMALS);
        let name = self.rng.pick(KID_NAMES);
        let noun = self.rng.pick(NOUNS).to_lowercase();
        let title = match self.rng.below(6) {
            0 => format!("{name} and the Big {}", self.rng.pick(NOUNS)),
            1 => format!("Goodnight, Little {animal}"),
            2 => {
                format!("The Very {} {animal}", self.rng.pick(&["Busy", "Sleepy", "Hungry", "Grumpy", "Brave", "Shy"]))
            }
            3 => format!("Where Is {name}'s {}?", self.rng.pick(&["Hat", "Blanket", "Boot", "Kite", "Teddy"])),
            4 => format!("{} Don't Wear {}", plural(animal), self.rng.pick(&["Socks", "Pajamas", "Hats", "Mittens"])),
            _ => format!("Little {animal} Finds a {noun}"),
        };
        let year = self.rng.range(1998, DEMO_YEAR);
        let publisher = self.rng.pick(CHILDRENS);
        let f008 = self.f008('s', year, "", publisher.country, &book_material(true, 'a', ' ', "", false, '1'), "eng");
        let mut r = self.start(b'a', b'm', None, f008, year.max(2000));
        r.push_data(DataField::new(tag("020"), ' ', ' ').with('a', self.isbn()));
        self.common_040(&mut r);
        r.push_data(DataField::new(tag("082"), '0', '4').with('a', "[E]").with('2', "23"));
        r.push_data(author.field("100", "author"));
        r.push_data(self.title_field(&title, None, &format!("by {}", author.name()), true));
        r.push_data(self.publication(publisher, year));
        r.push_data(
            DataField::new(tag("300"), ' ', ' ')
                .with('a', "32 unnumbered pages :")
                .with('b', "color illustrations ;")
                .with('c', "26 cm"),
        );
        self.rda(&mut r, ("text", "txt"), ("unmediated", "n"), ("volume", "nc"));
        r.push_data(DataField::new(tag("521"), '1', ' ').with('a', "Ages 3-7."));
        r.push_data(subject_field(&plural(animal), Some("Juvenile fiction.")));
        r.push_data(subject_field(
            self.rng.word(&["Friendship", "Bedtime", "Families", "Sharing", "Seasons"]),
            Some("Juvenile fiction."),
        ));
        r.push_data(DataField::new(tag("655"), ' ', '7').with('a', "Picture books.").with('2', "lcgft"));
        let plan = ItemPlan {
            item_type: "BK",
            location: "CHILD",
            collection: "JUV",
            call_number: format!("E {}", spine_word(author.last, 3)),
            price_cents: (12, 19),
            copies: 0,
        };
        Cataloged { record: r, plan, year }
    }

    fn juvenile_fiction(&mut self) -> Cataloged {
        let author = self.person();
        let hero = self.rng.pick(KID_NAMES);
        let title = match self.rng.below(4) {
            0 => {
                format!("The {} Adventures of {hero}", self.rng.pick(&["Amazing", "Incredible", "Secret", "Unlikely"]))
            }
            1 => format!(
                "{hero} {} and the {} of {}",
                self.rng.pick(SURNAMES),
                self.rng.pick(NOUNS),
                self.rng.pick(PLACES)
            ),
            2 => format!("The Secret of {}", self.rng.pick(PLACES)),
            _ => format!("The {} Club", self.rng.pick(&["Midnight", "Treehouse", "Detective", "Dragon", "Robot"])),
        };
        let year = self.rng.range(2000, DEMO_YEAR);
        let publisher = self.rng.pick(CHILDRENS);
        let f008 = self.f008('s', year, "", publisher.country, &book_material(false, 'c', ' ', "", false, '1'), "eng");
        let mut r = self.start(b'a', b'm', None, f008, year);
        r.push_data(DataField::new(tag("020"), ' ', ' ').with('a', self.isbn()));
        self.common_040(&mut r);
        r.push_data(DataField::new(tag("082"), '0', '4').with('a', "[Fic]").with('2', "23"));
        r.push_data(author.field("100", "author"));
        r.push_data(self.title_field(&title, None, &author.name(), true));
        r.push_data(self.publication(publisher, year));
        r.push_data(
            DataField::new(tag("300"), ' ', ' ')
                .with('a', format!("{} pages ;", self.rng.range(96, 280)))
                .with('c', "20 cm"),
        );
        self.rda(&mut r, ("text", "txt"), ("unmediated", "n"), ("volume", "nc"));
        r.push_data(DataField::new(tag("521"), '1', ' ').with('a', "Ages 8-12."));
        r.push_data(subject_field(
            self.rng.word(&[
                "Adventure and adventurers",
                "Schools",
                "Magic",
                "Friendship",
                "Mystery and detective stories",
            ]),
            Some("Juvenile fiction."),
        ));
        let plan = ItemPlan {
            item_type: "BK",
            location: "CHILD",
            collection: "JUV",
            call_number: format!("J FIC {}", spine_word(author.last, 20)),
            price_cents: (8, 18),
            copies: 0,
        };
        Cataloged { record: r, plan, year }
    }

    fn juvenile_nonfiction(&mut self) -> Cataloged {
        let subject = self.rng.pick(CHILD_SUBJECTS);
        let author = self.person();
        let title = if self.rng.chance(30) {
            subject.titles[0].to_string()
        } else {
            fill_title(self.rng.word(CHILD_NF_TITLES), subject.topic)
        };
        let year = self.rng.range(2000, DEMO_YEAR);
        let publisher = self.rng.pick(CHILDRENS);
        let f008 = self.f008('s', year, "", publisher.country, &book_material(true, 'j', ' ', "", true, '0'), "eng");
        let mut r = self.start(b'a', b'm', None, f008, year);
        r.push_data(DataField::new(tag("020"), ' ', ' ').with('a', self.isbn()));
        self.common_040(&mut r);
        r.push_data(DataField::new(tag("082"), '0', '4').with('a', subject.dewey).with('2', "23"));
        r.push_data(author.field("100", "author"));
        r.push_data(self.title_field(&title, None, &author.name(), true));
        r.push_data(self.publication(publisher, year));
        r.push_data(
            DataField::new(tag("300"), ' ', ' ')
                .with('a', "48 pages :")
                .with('b', "color illustrations ;")
                .with('c', "27 cm"),
        );
        self.rda(&mut r, ("text", "txt"), ("unmediated", "n"), ("volume", "nc"));
        r.push_data(DataField::new(tag("500"), ' ', ' ').with('a', "Includes glossary and index."));
        r.push_data(heading_field(subject.heading));
        let plan = ItemPlan {
            item_type: "BK",
            location: "CHILD",
            collection: "JUV",
            call_number: format!("J {} {}", subject.dewey, spine_word(author.last, 3)),
            price_cents: (12, 24),
            copies: 0,
        };
        Cataloged { record: r, plan, year }
    }

    fn young_adult(&mut self) -> Cataloged {
        let author = self.person();
        let adj = self.rng.pick(ADJECTIVES);
        let adj2 = self.rng.pick(ADJECTIVES);
        let noun = self.rng.pick(NOUNS);
        let title = match self.rng.below(6) {
            0 => format!("The {} We Keep", plural(noun)),
            1 => format!("All the {adj} Things"),
            2 => format!("{adj} and {adj2}"),
            3 => format!("Girl in the {noun}"),
            4 => format!("We Were {adj}"),
            _ => format!(
                "{} {noun} of {} and {}",
                article(noun),
                plural(self.rng.word(NOUNS)),
                plural(self.rng.word(NOUNS))
            ),
        };
        let year = self.rng.range(2005, DEMO_YEAR);
        let publisher = self.rng.pick(CHILDRENS);
        let f008 = self.f008('s', year, "", publisher.country, &book_material(false, 'd', ' ', "", false, '1'), "eng");
        let mut r = self.start(b'a', b'm', None, f008, year);
        r.push_data(DataField::new(tag("020"), ' ', ' ').with('a', self.isbn()));
        self.common_040(&mut r);
        r.push_data(DataField::new(tag("082"), '0', '4').with('a', "[Fic]").with('2', "23"));
        r.push_data(author.field("100", "author"));
        r.push_data(self.title_field(&title, None, &author.name(), true));
        r.push_data(self.publication(publisher, year));
        r.push_data(
            DataField::new(tag("300"), ' ', ' ')
                .with('a', format!("{} pages ;", self.rng.range(240, 460)))
                .with('c', "22 cm"),
        );
        self.rda(&mut r, ("text", "txt"), ("unmediated", "n"), ("volume", "nc"));
        r.push_data(DataField::new(tag("521"), '2', ' ').with('a', "9-12."));
        r.push_data(subject_field(
            self.rng.word(&[
                "Coming of age",
                "High schools",
                "Dating (Social customs)",
                "Grief",
                "Dystopias",
                "Survival",
            ]),
            Some("Fiction."),
        ));
        r.push_data(DataField::new(tag("655"), ' ', '7').with('a', "Young adult fiction.").with('2', "lcgft"));
        let plan = ItemPlan {
            item_type: "BK",
            location: "YA",
            collection: "YA",
            call_number: format!("YA FIC {}", spine_word(author.last, 20)),
            price_cents: (11, 20),
            copies: 0,
        };
        Cataloged { record: r, plan, year }
    }

    fn dvd(&mut self) -> Cataloged {
        let documentary = self.rng.chance(15);
        let (title, subject): (String, Option<&Subject>) = if documentary {
            let s = self.rng.pick(SUBJECTS);
            (self.rng.pick(s.titles).to_string(), Some(s))
        } else {
            let genre = self.rng.weighted(GENRES);
            (self.fiction_title(genre), None)
        };
        let director = self.person();
        let producer = self.person();
        let year = self.rng.range(1995, DEMO_YEAR);
        let studio = self.rng.pick(STUDIOS);
        let minutes = self.rng.range(82, 155);
        let material = visual_material(&format!("{minutes:03}"), 'g', 'v', 'l');
        let f008 = self.f008('s', year, "", studio.country, &material, "eng");
        let mut r = self.start(b'g', b'm', Some("vd cvaizq"), f008, year.max(2000));
        r.push_data(DataField::new(tag("024"), '1', ' ').with('a', upc(&mut self.rng)));
        self.common_040(&mut r);
        let dewey = subject.map_or("791.4372", |s| s.dewey);
        r.push_data(DataField::new(tag("082"), '0', '4').with('a', dewey).with('2', "23"));
        let resp = format!("directed by {} ; produced by {}", director.name(), producer.name());
        r.push_data(self.title_field(&title, None, &resp, false));
        r.push_data(self.publication(studio, year));
        r.push_data(
            DataField::new(tag("300"), ' ', ' ')
                .with('a', format!("1 videodisc ({minutes} min.) :"))
                .with('b', "sound, color ;")
                .with('c', "4 3/4 in."),
        );
        self.rda(&mut r, ("two-dimensional moving image", "tdi"), ("video", "v"), ("videodisc", "vd"));
        r.push_data(DataField::new(tag("538"), ' ', ' ').with('a', "DVD; region 1; widescreen."));
        if !documentary {
            let cast: Vec<String> = (0..3).map(|_| self.person().name()).collect();
            r.push_data(DataField::new(tag("511"), '1', ' ').with('a', format!("{}.", cast.join(", "))));
            r.push_data(
                DataField::new(tag("521"), '8', ' ')
                    .with('a', format!("MPAA rating: {}.", self.rng.pick(&["G", "PG", "PG-13", "R"]))),
            );
        }
        match subject {
            Some(s) => {
                r.push_data(heading_field(s.heading));
                r.push_data(DataField::new(tag("655"), ' ', '7').with('a', "Documentary films.").with('2', "lcgft"));
            }
            None => {
                r.push_data(subject_field(
                    self.rng.word(&["Families", "Friendship", "Man-woman relationships", "Detectives", "Space flight"]),
                    Some("Drama."),
                ));
                r.push_data(DataField::new(tag("655"), ' ', '7').with('a', "Feature films.").with('2', "lcgft"));
            }
        }
        r.push_data(director.field("700", "film director"));
        r.push_data(producer.field("700", "film producer"));
        let call_number = match subject {
            Some(s) => format!("DVD {} {}", s.dewey, spine_word(first_significant_word(&title), 3)),
            None => format!("DVD {}", spine_word(first_significant_word(&title), 20)),
        };
        let plan = ItemPlan {
            item_type: "DVD",
            location: "AV",
            collection: "AV",
            call_number,
            price_cents: (19, 29),
            copies: 0,
        };
        Cataloged { record: r, plan, year }
    }

    fn audiobook(&mut self) -> Cataloged {
        let genre = self.rng.weighted(GENRES);
        let author = self.person();
        let narrator = self.person();
        let title = self.fiction_title(genre);
        let year = self.rng.range(2000, DEMO_YEAR);
        let publisher = self.rng.pick(AUDIO);
        let f008 = self.f008('s', year, "", publisher.country, &music_material("nn", "f"), "eng");
        let mut r = self.start(b'i', b'm', Some("sd fsngnnmmned"), f008, year);
        r.push_data(DataField::new(tag("020"), ' ', ' ').with('a', self.isbn()).with('q', "(compact disc)"));
        self.common_040(&mut r);
        r.push_data(DataField::new(tag("082"), '0', '4').with('a', "813/.6").with('2', "23"));
        r.push_data(author.field("100", "author"));
        r.push_data(self.title_field(&title, None, &format!("{} ; read by {}", author.name(), narrator.name()), true));
        r.push_data(DataField::new(tag("250"), ' ', ' ').with('a', "Unabridged."));
        r.push_data(self.publication(publisher, year));
        let discs = self.rng.range(5, 14);
        r.push_data(
            DataField::new(tag("300"), ' ', ' ')
                .with(
                    'a',
                    format!(
                        "{discs} audio discs ({} hr., {} min.) :",
                        discs + self.rng.range(0, 3),
                        self.rng.range(0, 59)
                    ),
                )
                .with('b', "digital ;")
                .with('c', "4 3/4 in."),
        );
        self.rda(&mut r, ("spoken word", "spw"), ("audio", "s"), ("audio disc", "sd"));
        r.push_data(DataField::new(tag("511"), '0', ' ').with('a', format!("Read by {}.", narrator.name())));
        r.push_data(subject_field(self.rng.word(genre.themes), Some("Fiction.")));
        r.push_data(DataField::new(tag("655"), ' ', '7').with('a', genre.form).with('2', "lcgft"));
        r.push_data(DataField::new(tag("655"), ' ', '7').with('a', "Audiobooks.").with('2', "lcgft"));
        r.push_data(narrator.field("700", "narrator"));
        let plan = ItemPlan {
            item_type: "ACD",
            location: "AV",
            collection: "AV",
            call_number: format!("CD FIC {}", spine_word(author.last, 20)),
            price_cents: (35, 60),
            copies: 0,
        };
        Cataloged { record: r, plan, year }
    }

    fn music_cd(&mut self) -> Cataloged {
        let (form, dewey, heading, genre) = *self.rng.pick(MUSIC);
        let band = self.rng.chance(55);
        let person = self.person();
        let artist = if band {
            format!("The {} {}", self.rng.pick(ADJECTIVES), plural(self.rng.word(NOUNS)))
        } else {
            person.name()
        };
        let album = match self.rng.below(5) {
            0 => format!("{} {}", self.rng.pick(ADJECTIVES), self.rng.pick(NOUNS)),
            1 => format!("{} Sessions", self.rng.pick(PLACES).trim_start_matches("the ")),
            2 => format!("Songs from the {}", self.rng.pick(NOUNS)),
            3 => format!("Live at the {} Ballroom", self.rng.pick(PLACES).trim_start_matches("the ")),
            _ => format!("{} Hours", self.rng.pick(ADJECTIVES)),
        };
        let year = self.rng.range(1998, DEMO_YEAR);
        let label = self.rng.pick(LABELS);
        let material = music_material(form, "");
        let f008 = self.f008('s', year, "", label.country, &material, "eng");
        let mut r = self.start(b'j', b'm', Some("sd fsngnnmmned"), f008, year.max(2000));
        r.push_data(DataField::new(tag("024"), '1', ' ').with('a', upc(&mut self.rng)));
        r.push_data(
            DataField::new(tag("028"), '0', '2')
                .with('a', format!("{}-{}", spine_word(label.name, 2), self.rng.range(1000, 9999)))
                .with('b', label.name),
        );
        self.common_040(&mut r);
        r.push_data(DataField::new(tag("082"), '0', '4').with('a', dewey).with('2', "23"));
        if band {
            r.push_data(DataField::new(tag("110"), '2', ' ').with('a', format!("{artist},")).with('e', "performer."));
        } else {
            r.push_data(person.field("100", "performer"));
        }
        r.push_data(self.title_field(&album, None, &artist, true));
        r.push_data(self.publication(label, year));
        r.push_data(
            DataField::new(tag("300"), ' ', ' ')
                .with('a', format!("1 audio disc ({} min.) :", self.rng.range(38, 74)))
                .with('b', "digital ;")
                .with('c', "4 3/4 in."),
        );
        self.rda(&mut r, ("performed music", "prm"), ("audio", "s"), ("audio disc", "sd"));
        let tracks: Vec<String> = (0..self.rng.range(8, 13))
            .map(|_| format!("{} {}", self.rng.pick(ADJECTIVES), self.rng.pick(NOUNS).to_lowercase()))
            .collect();
        r.push_data(DataField::new(tag("505"), '0', ' ').with('a', format!("{}.", tracks.join(" -- "))));
        let f650 = heading_field(&heading.trim_end_matches('.').split(" -- ").collect::<Vec<_>>());
        r.push_data(f650);
        let artist_word = if band { first_significant_word(&artist).to_string() } else { person.last.to_string() };
        let plan = ItemPlan {
            item_type: "MCD",
            location: "AV",
            collection: "AV",
            call_number: format!("CD {genre} {}", spine_word(&artist_word, 3)),
            price_cents: (11, 18),
            copies: 0,
        };
        Cataloged { record: r, plan, year }
    }

    fn magazine(&mut self) -> Cataloged {
        let (title, dewey, subject) = *self.rng.pick(MAGAZINES);
        let start = self.rng.range(1975, 2015);
        let publisher = self.rng.pick(TRADE);
        let f008 = self.f008('c', start, "9999", publisher.country, "mr p       0   a0", "eng");
        let updated = DEMO_YEAR - self.rng.range(0, 3);
        let mut r = self.start(b'a', b's', None, f008, updated);
        r.push_data(DataField::new(tag("022"), '0', ' ').with('a', self.issn()));
        self.common_040(&mut r);
        r.push_data(DataField::new(tag("082"), '0', '4').with('a', dewey).with('2', "23"));
        r.push_data(DataField::new(tag("245"), '0', nonfiling(title)).with('a', format!("{title}.")));
        r.push_data(
            DataField::new(tag("264"), ' ', '1')
                .with('a', format!("{} :", publisher.place))
                .with('b', format!("{},", publisher.name))
                .with('c', format!("{start}-")),
        );
        r.push_data(
            DataField::new(tag("300"), ' ', ' ')
                .with('a', "volumes :")
                .with('b', "color illustrations ;")
                .with('c', "28 cm"),
        );
        r.push_data(DataField::new(tag("310"), ' ', ' ').with('a', "Monthly"));
        self.rda(&mut r, ("text", "txt"), ("unmediated", "n"), ("volume", "nc"));
        r.push_data(DataField::new(tag("362"), '0', ' ').with('a', format!("Vol. 1, no. 1 (Jan. {start})-")));
        r.push_data(DataField::new(tag("650"), ' ', '0').with('a', subject).with('v', "Periodicals."));
        let plan = ItemPlan {
            item_type: "MAG",
            location: "ANF",
            collection: "PER",
            call_number: format!("MAG {}", title.to_uppercase()),
            price_cents: (5, 9),
            copies: 0,
        };
        Cataloged { record: r, plan, year: start }
    }

    fn reference(&mut self) -> Cataloged {
        let (title, dewey, lc, heading) = *self.rng.pick(REFERENCE);
        let year = self.rng.range(2005, DEMO_YEAR);
        let publisher = self.rng.pick(ACADEMIC);
        let editor = self.person();
        let f008 = self.f008('s', year, "", publisher.country, &book_material(true, 'e', ' ', "e", true, '0'), "eng");
        let mut r = self.start(b'a', b'm', None, f008, year);
        r.push_data(DataField::new(tag("020"), ' ', ' ').with('a', self.isbn()));
        self.common_040(&mut r);
        r.push_data(self.lc_call_number(lc, first_significant_word(title), year));
        r.push_data(DataField::new(tag("082"), '0', '4').with('a', dewey).with('2', "23"));
        r.push_data(self.title_field(title, None, &format!("edited by {}", editor.name()), false));
        let edition = self.rng.range(2, 12);
        let suffix = match edition {
            2 => "nd",
            3 => "rd",
            _ => "th",
        };
        r.push_data(DataField::new(tag("250"), ' ', ' ').with('a', format!("{edition}{suffix} edition.")));
        r.push_data(self.publication(publisher, year));
        r.push_data(
            DataField::new(tag("300"), ' ', ' ')
                .with('a', format!("xxiv, {} pages :", self.rng.range(600, 1800)))
                .with('b', "illustrations, maps ;")
                .with('c', "29 cm"),
        );
        self.rda(&mut r, ("text", "txt"), ("unmediated", "n"), ("volume", "nc"));
        r.push_data(DataField::new(tag("504"), ' ', ' ').with('a', "Includes bibliographical references and index."));
        r.push_data(heading_field(&heading.split(" -- ").collect::<Vec<_>>()));
        r.push_data(editor.field("700", "editor"));
        let plan = ItemPlan {
            item_type: "REF",
            location: "REF",
            collection: "REF",
            call_number: format!("REF {dewey} {}", spine_word(first_significant_word(title), 3)),
            price_cents: (49, 399),
            copies: 0,
        };
        Cataloged { record: r, plan, year }
    }

    fn laptop(&mut self) -> Cataloged {
        let year = DEMO_YEAR - 1;
        let f008 = self.f008('s', year, "", "xxu", &visual_material("nnn", ' ', 'r', 'n'), "eng");
        let mut r = self.start(b'r', b'm', None, f008, year);
        self.common_040(&mut r);
        r.push_data(
            DataField::new(tag("245"), '0', '0').with('a', "Chromebook laptop computer.").with('h', "[realia]"),
        );
        r.push_data(
            DataField::new(tag("300"), ' ', ' ').with('a', "1 laptop computer, 1 power adapter, in carrying case"),
        );
        self.rda(&mut r, ("three-dimensional form", "tdf"), ("unmediated", "n"), ("object", "nr"));
        r.push_data(
            DataField::new(tag("500"), ' ', ' ')
                .with('a', "For use in the library. Loaned for 3 hours; return to the circulation desk."),
        );
        r.push_data(DataField::new(tag("650"), ' ', '0').with('a', "Laptop computers."));
        let plan = ItemPlan {
            item_type: "LAPTOP",
            location: "AV",
            collection: "EQUIP",
            call_number: "LAPTOP".to_string(),
            price_cents: (349, 349),
            copies: 4,
        };
        Cataloged { record: r, plan, year }
    }

    /// Appends 942 (Koha's default item type) and the 952 items.
    fn add_items(&mut self, c: Cataloged) -> Record {
        let Cataloged { mut record, plan, year } = c;
        record.push_data(DataField::new(tag("942"), ' ', ' ').with('c', plan.item_type).with('2', "ddc"));
        let copies = if plan.copies > 0 {
            plan.copies
        } else if plan.item_type == "REF" || plan.item_type == "MAG" {
            *self.rng.weighted(&[(70, 1), (30, 2)])
        } else {
            *self.rng.weighted(&[(40, 1), (30, 2), (20, 3), (10, 4)])
        };
        let branch_weights: Vec<(u32, &str)> = BRANCHES.iter().map(|(c, _, w)| (*w, *c)).collect();
        for n in 0..copies {
            let home = if plan.item_type == "LAPTOP" {
                BRANCHES[n % BRANCHES.len()].0
            } else {
                *self.rng.weighted(&branch_weights)
            };
            let holding = if self.rng.chance(7) { *self.rng.weighted(&branch_weights) } else { home };
            let location = if matches!(plan.location, "AF" | "ANF") && year >= DEMO_YEAR - 1 && self.rng.chance(25) {
                "DISPLAY"
            } else {
                plan.location
            };
            let acquired_year = self.rng.range(year.max(2000), DEMO_YEAR);
            let acquired = format!("{acquired_year}-{:02}-{:02}", self.rng.range(1, 12), self.rng.range(1, 28));
            let price = self.price(plan.price_cents);
            let barcode = self.barcode();
            record.push_data(
                DataField::new(tag("952"), ' ', ' ')
                    .with('a', home)
                    .with('b', holding)
                    .with('c', location)
                    .with('8', plan.collection)
                    .with('d', acquired)
                    .with('g', price.clone())
                    .with('o', plan.call_number.clone())
                    .with('p', barcode)
                    .with('v', price)
                    .with('y', plan.item_type),
            );
        }
        record
    }

    fn patron(&mut self, n: usize) -> Patron {
        let first = self.rng.pick(FIRST);
        let surname = self.rng.pick(SURNAMES);
        let category = *self.rng.weighted(&[
            (58, "ADULT"),
            (12, "CHILD"),
            (8, "YA"),
            (14, "SENIOR"),
            (5, "STUDENT"),
            (3, "STAFF"),
        ]);
        let branch_weights: Vec<(u32, &str)> = BRANCHES.iter().map(|(c, _, w)| (*w, *c)).collect();
        let home = *self.rng.weighted(&branch_weights);
        let body = format!("21234{:08}", n + 1);
        let card_number = format!("{body}{}", luhn_check(&body));
        // Mostly current cards, a few expired ones so blocks can be shown.
        let year = if self.rng.chance(6) { DEMO_YEAR - 1 } else { self.rng.range(DEMO_YEAR, DEMO_YEAR + 3) };
        let expiry_date = format!("{year}-{:02}-{:02}", self.rng.range(1, 12), self.rng.range(1, 28));
        let email = (category != "CHILD" && self.rng.chance(85)).then(|| {
            let local: String = format!("{}.{}", first, surname)
                .to_lowercase()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect();
            let domain = self.rng.pick(&["example.org", "example.com", "example.net"]);
            format!("{local}{}@{domain}", if self.rng.chance(40) { (n % 97).to_string() } else { String::new() })
        });
        Patron {
            card_number,
            surname: surname.to_string(),
            first_name: first.to_string(),
            category: code(category),
            home_branch: code(home),
            expiry_date,
            email,
        }
    }
}

/// A 12-digit UPC-A with its check digit (DVDs and CDs carry these in 024 1_).
fn upc(rng: &mut Rng) -> String {
    let body = format!("{:011}", rng.below(100_000_000_000));
    let sum: u32 =
        body.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap_or(0) * if i % 2 == 0 { 3 } else { 1 }).sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// 650 _0 with the heading in $a and an optional form subdivision $v.
fn subject_field(heading: &str, form: Option<&str>) -> DataField {
    let mut parts = heading.split(" -- ");
    let mut f = DataField::new(tag("650"), ' ', '0').with('a', parts.next().unwrap_or(heading).to_string());
    for part in parts {
        f = f.with('x', part.to_string());
    }
    if let Some(form) = form {
        f = f.with('v', form);
    }
    f
}

/// 650 _0 from a heading and its subdivisions: geographic names go to $z, form words to $v,
/// the rest to $x; the last part ends with a period.
fn heading_field(parts: &[&str]) -> DataField {
    let forms = [
        "Juvenile literature",
        "Identification",
        "Patterns",
        "Amateurs' manuals",
        "Popular works",
        "Textbooks for foreign speakers",
        "Biography",
        "Encyclopedias",
        "Dictionaries",
    ];
    let places = ["North America", "United States"];
    let mut f = DataField::new(tag("650"), ' ', '0');
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let text = if last { format!("{part}.") } else { part.to_string() };
        let code = if i == 0 {
            'a'
        } else if part.starts_with(|c: char| c.is_ascii_digit()) {
            'y'
        } else if forms.contains(part) {
            'v'
        } else if places.contains(part) {
            'z'
        } else {
            'x'
        };
        f = f.with(code, text);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn isbn13_valid(s: &str) -> bool {
        s.len() == 13
            && s.chars().all(|c| c.is_ascii_digit())
            && isbn13_check(&s[..12]) == s[12..].parse::<u32>().unwrap_or(99)
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        let a = generate(7, 300);
        assert_eq!(a, generate(7, 300));
        assert_ne!(a.records, generate(8, 300).records);
        assert_eq!(a.records.len(), 300);
        assert_eq!(generate(7, 0).records.len(), 0);
    }

    #[test]
    fn isbns_and_issns_have_valid_check_digits_and_are_unique() {
        let lib = generate(1, 2000);
        let mut seen = HashSet::new();
        for r in &lib.records {
            for isbn in r.subfield_values("020", 'a') {
                assert!(isbn13_valid(isbn), "{isbn}");
                assert!(seen.insert(isbn.to_string()), "duplicate ISBN {isbn}");
            }
            for issn in r.subfield_values("022", 'a') {
                let digits: String = issn.chars().filter(|c| *c != '-').collect();
                assert_eq!(issn_check(&digits[..7]), digits.chars().last().unwrap_or(' '), "{issn}");
            }
        }
        assert!(seen.len() > 1500);
        assert_eq!(isbn13_check("978030640615"), 7);
        assert_eq!(issn_check("0378595"), '5');
    }

    #[test]
    fn barcodes_and_card_numbers_are_unique_luhn_valid_and_scannable() {
        let lib = generate(2, 1500);
        let mut seen = HashSet::new();
        for r in &lib.records {
            let items: Vec<_> = r.data_fields("952").collect();
            assert!((1..=4).contains(&items.len()), "{} items", items.len());
            for f in items {
                let b = f.subfield('p').unwrap_or("");
                assert_eq!(b.len(), 14, "{b}");
                assert!(b.starts_with("31234"));
                assert_eq!(luhn_check(&b[..13]), b[13..].parse::<u32>().unwrap_or(99), "{b}");
                assert!(catalog::Barcode::parse(b).is_ok());
                assert!(seen.insert(b.to_string()), "duplicate barcode {b}");
            }
        }
        let mut cards = HashSet::new();
        for p in &lib.patrons {
            assert_eq!(luhn_check(&p.card_number[..13]), p.card_number[13..].parse::<u32>().unwrap_or(99));
            assert!(cards.insert(p.card_number.clone()));
            assert!(!seen.contains(&p.card_number));
            assert_eq!(p.expiry_date.len(), 10);
            assert!(p.email.as_deref().is_none_or(|e| e.contains('@') && !e.contains(' ')));
        }
        assert!(lib.patrons.len() >= 200);
    }

    #[test]
    fn every_item_names_a_generated_branch_location_and_type() {
        let lib = generate(3, 1500);
        let branches: HashSet<&str> = lib.branches.iter().map(|b| b.code.as_str()).collect();
        let locations: HashSet<&str> = lib.locations.iter().map(|l| l.code.as_str()).collect();
        let types: HashSet<&str> = lib.item_types.iter().map(|t| t.code.as_str()).collect();
        let mut used_types = HashSet::new();
        for r in &lib.records {
            for f in r.data_fields("952") {
                assert!(branches.contains(f.subfield('a').unwrap_or("")), "{f:?}");
                assert!(branches.contains(f.subfield('b').unwrap_or("")), "{f:?}");
                assert!(locations.contains(f.subfield('c').unwrap_or("")), "{f:?}");
                let t = f.subfield('y').unwrap_or("");
                assert!(types.contains(t), "{f:?}");
                used_types.insert(t.to_string());
                assert!(catalog::Money::parse(f.subfield('v').unwrap_or("x")).is_ok(), "{f:?}");
                assert!(!f.subfield('o').unwrap_or("").is_empty());
                assert_eq!(f.subfield('d').map(str::len), Some(10));
            }
            assert!(lib.patrons.iter().all(|p| branches.contains(p.home_branch.as_str())));
        }
        assert_eq!(used_types.len(), types.len(), "every item type is used: {used_types:?}");
        assert!(lib.item_types.iter().any(|t| t.code.as_str() == "REF" && !t.loanable));
    }

    #[test]
    fn records_are_well_formed_and_varied() {
        let lib = generate(4, 3000);
        let mut titles = HashSet::new();
        let mut formats = HashSet::new();
        for r in &lib.records {
            let f008 = r.control("008").unwrap_or("");
            assert_eq!(f008.len(), 40, "{f008:?}");
            assert!(r.control("001").is_some());
            let f245 = r.data_field("245").expect("245");
            titles.insert(f245.join("ab"));
            formats.insert((
                r.leader.record_type(),
                r.leader.bibliographic_level(),
                r.control("007").map(str::to_string),
            ));
            assert!(r.data_field("082").is_some() || r.leader.record_type() == b'r');
            assert_eq!(r.leader.as_str().len(), 24);
        }
        assert!(titles.len() > 2200, "{} distinct titles", titles.len());
        assert!(formats.len() >= 7, "{formats:?}");
    }

    #[test]
    fn dewey_numbers_match_subjects() {
        let lib = generate(5, 3000);
        let mut checked = 0;
        for r in &lib.records {
            let Some(heading) = r.data_field("650") else { continue };
            let a = heading.subfield('a').unwrap_or("");
            let dewey = r.data_field("082").and_then(|f| f.subfield('a')).unwrap_or("");
            for s in SUBJECTS.iter().chain(CHILD_SUBJECTS) {
                let full: Vec<&str> = heading.subfields.iter().map(|s| s.value.trim_end_matches('.')).collect();
                if s.heading == full.as_slice() {
                    assert_eq!(dewey, s.dewey, "{a}");
                    checked += 1;
                }
            }
            if let Some(f) = r.data_fields("952").next() {
                let call = f.subfield('o').unwrap_or("");
                if f.subfield('y') == Some("BK") && f.subfield('c') == Some("ANF") {
                    assert!(call.starts_with(dewey), "{call} vs {dewey}");
                }
            }
        }
        assert!(checked > 500, "{checked}");
    }

    #[test]
    fn articles_and_plurals() {
        assert_eq!(article("Island"), "An");
        assert_eq!(article("River"), "A");
        assert_eq!(plural("Goose"), "Geese");
        assert_eq!(plural("Ferry"), "Ferries");
        assert_eq!(plural("Hours"), "Hours");
        assert_eq!(plural("Fox"), "Foxes");
        assert_eq!(plural("Orchard"), "Orchards");
    }

    #[test]
    fn topics_read_naturally_in_titles() {
        assert_eq!(fill_title("Everyday {}", "the Ocean"), "Everyday Ocean");
        assert_eq!(fill_title("The Joy of {}", "the Ocean"), "The Joy of the Ocean");
        assert_eq!(fill_title("{} for Beginners", "the Ocean"), "The Ocean for Beginners");
        assert_eq!(fill_title("{} Made Simple", "Knitting"), "Knitting Made Simple");
    }

    #[test]
    fn cutters_follow_the_lc_table() {
        assert_eq!(cutter("King"), "K56");
        assert_eq!(cutter("Okafor"), "O33");
        assert_eq!(cutter("Schmidt"), "S36");
        assert_eq!(cutter("Smith"), "S65");
        assert_eq!(cutter("Archer"), "A73");
    }
}

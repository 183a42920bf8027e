//! `shelfmark`: one binary for the library server and its command-line tools.

fn main() {
    println!("shelfmark");
}

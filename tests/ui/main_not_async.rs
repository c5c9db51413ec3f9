#[mini::main]
fn main() {}

#[mini::main(flavor = "threaded")]
async fn main() {}

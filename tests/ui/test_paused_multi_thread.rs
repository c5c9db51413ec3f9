#[mini::test(flavor = "multi_thread", start_paused = true)]
async fn sleeps_in_virtual_time() {}

fn main() {}

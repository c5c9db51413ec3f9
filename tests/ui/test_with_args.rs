#[mini::test]
async fn adds(left: i32, right: i32) {
    assert_eq!(left + right, right + left);
}

fn main() {}

fn main() {
    let (_tx, a) = gochan::bounded::<i32>(1);
    let (_tx2, b) = gochan::bounded::<i32>(1);
    gochan::select! {
        recv(a) -> v => drop(v)
        recv(b) -> v => drop(v),
    }
}

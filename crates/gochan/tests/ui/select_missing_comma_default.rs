fn main() {
    let (_tx, a) = gochan::bounded::<i32>(1);
    gochan::select! {
        recv(a) -> v => drop(v)
        default => (),
    }
}

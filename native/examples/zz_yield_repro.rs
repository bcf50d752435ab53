fn main() {
    let r = lwt_native::run(async { lwt::yield_now().await });
    println!("{r:?}");
}

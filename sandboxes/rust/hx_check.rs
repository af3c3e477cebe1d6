// Built and run once when the image is made: the prebuilt crates link, and rand 0.4's API works.
use rand::{Rng, RngCore};
use regex::Regex;

fn main() {
    let mut rng = rand::thread_rng();
    for _ in 0..1000 {
        let x = rng.gen_range(0, 4);
        assert!((0..4).contains(&x));
        let c: char = rng.gen_range(b'a', b'z' + 1).into();
        assert!(c.is_ascii_lowercase());
    }
    let _: i32 = rng.gen();
    let _ = rand::random::<u32>();
    let mut h = rand::HxRng::new(42);
    assert_eq!(h.next_u64(), 0xbdd732262feb6e95);
    assert!(Regex::new(r"^\d+$").unwrap().is_match("123"));
    assert_eq!(format!("{:x}", md5::compute(b"Hello world")), "3e25960a79dbc69b674cd4ec67a72c62");
    println!("hx_check ok");
}

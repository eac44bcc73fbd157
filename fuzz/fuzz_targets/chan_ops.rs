#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gochan_fuzz::chan_ops::check(data));

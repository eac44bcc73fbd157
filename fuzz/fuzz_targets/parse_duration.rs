#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gochan_fuzz::parse_duration::check(data));

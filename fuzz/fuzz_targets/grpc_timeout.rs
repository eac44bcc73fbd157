#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gochan_fuzz::grpc_timeout::check(data));

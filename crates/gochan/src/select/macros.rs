//! `select!`, `select_async!` and their biased twins: a thin parsing layer that turns arms
//! into typed [`RecvArm`](super::arm::RecvArm)/[`SendArm`](super::arm::SendArm) locals
//! and hands them to the engine.
//!
//! Expansion sketch (channel and value expressions are evaluated once, before selecting,
//! as in Go):
//! ```text
//! match (&rx, &tx) { __chans => {
//!     let mut __arms = (RecvArm::new(__chans.0), SendArm::new(__chans.1, value));
//!     match run(&mut [&mut __arms.0, &mut __arms.1], mode, biased) {
//!         Some(0) => { let res = __arms.0.take(); body0 }
//!         Some(1) => { let res = __arms.1.take(); body1 }
//!         _ => default_body,
//!     }
//! }}
//! ```

/// Waits on several channel operations and performs exactly one: Go's `select`.
///
/// Arms (in any order, separated by commas when the body is not a block):
/// - `recv(rx) -> res => body`: `res` is `Result<T, RecvError>` (`Err` once closed and
///   drained, so a closed channel's arm is always ready, as in Go);
/// - `send(tx, value) -> res => body`: `res` is `Result<(), SendError<T>>`; a send arm
///   that is not chosen does not send (its value is dropped with the select);
/// - `default => body`: makes the select non-blocking;
/// - `default(timeout) => body`: waits at most `timeout`.
///
/// When several arms are ready, one is chosen uniformly at random. Bodies may `break`,
/// `continue` or `return` from the enclosing code. `-> res` may be omitted.
///
/// # Panics
/// `select! {}` (no arms, no default) panics instead of blocking forever.
///
/// ```
/// use std::time::Duration;
/// let (tx, rx) = gochan::bounded::<i32>(0);
/// std::thread::spawn(move || tx.send(1).unwrap());
/// gochan::select! {
///     recv(rx) -> v => assert_eq!(v, Ok(1)),
///     recv(gochan::after(Duration::from_secs(5))) -> _ => panic!("timed out"),
/// }
/// ```
#[macro_export]
macro_rules! select {
    ($($tt:tt)*) => {
        $crate::__select_parse!((blocking false) () () (0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
            16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31) $($tt)*)
    };
}

/// [`select!`] that tries arms in source order instead of at random: the first ready arm
/// wins (for priorities, e.g. checking a done channel first).
///
/// ```
/// let (tx, rx) = gochan::bounded(1);
/// let (tx2, rx2) = gochan::bounded(1);
/// tx.send(1).unwrap();
/// tx2.send(2).unwrap();
/// gochan::select_biased! {
///     recv(rx) -> v => assert_eq!(v, Ok(1)),
///     recv(rx2) -> _ => unreachable!(),
/// }
/// ```
#[macro_export]
macro_rules! select_biased {
    ($($tt:tt)*) => {
        $crate::__select_parse!((blocking true) () () (0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
            16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31) $($tt)*)
    };
}

/// [`select!`] for async code: awaits instead of blocking the thread. Same arms (a
/// `default` arm makes it non-blocking; `default(timeout)` is not supported: add a
/// `recv(gochan::after(d))` arm).
///
/// # Cancel safety
/// Dropping the enclosing future while it waits removes every registration: no arm's
/// send happens and no received value is lost (it goes back to its channel).
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, rx) = gochan::bounded::<i32>(1);
/// tx.send_async(7).await.unwrap();
/// let got = gochan::select_async! {
///     recv(rx) -> v => v.unwrap(),
///     recv(gochan::never::<i32>()) -> _ => unreachable!(),
/// };
/// assert_eq!(got, 7);
/// # });
/// ```
#[macro_export]
macro_rules! select_async {
    ($($tt:tt)*) => {
        $crate::__select_parse!((async false) () () (0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
            16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31) $($tt)*)
    };
}

/// [`select_async!`] that tries arms in source order.
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, rx) = gochan::bounded(1);
/// tx.send(1).unwrap();
/// gochan::select_biased_async! {
///     recv(rx) -> v => assert_eq!(v, Ok(1)),
///     default => unreachable!(),
/// }
/// # });
/// ```
#[macro_export]
macro_rules! select_biased_async {
    ($($tt:tt)*) => {
        $crate::__select_parse!((async true) () () (0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
            16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31) $($tt)*)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    // All arms parsed.
    ($mode:tt $arms:tt $def:tt $is:tt) => {
        $crate::__select_gen!($mode $arms $def)
    };
    // `default` and `default(timeout)`.
    ($mode:tt $arms:tt () $is:tt default $(($t:expr))? => { $($body:tt)* } , $($rest:tt)*) => {
        $crate::__select_parse!($mode $arms ((($($t)?)) { $($body)* }) $is $($rest)*)
    };
    ($mode:tt $arms:tt () $is:tt default $(($t:expr))? => { $($body:tt)* } $($rest:tt)*) => {
        $crate::__select_parse!($mode $arms ((($($t)?)) { $($body)* }) $is $($rest)*)
    };
    ($mode:tt $arms:tt () $is:tt default $(($t:expr))? => $body:expr , $($rest:tt)*) => {
        $crate::__select_parse!($mode $arms ((($($t)?)) { $body }) $is $($rest)*)
    };
    ($mode:tt $arms:tt () $is:tt default $(($t:expr))? => $body:expr) => {
        $crate::__select_parse!($mode $arms ((($($t)?)) { $body }) $is)
    };
    // `recv(..) => ..` / `send(..) => ..` without `-> res`.
    ($mode:tt $arms:tt $def:tt $is:tt $kind:ident ($($args:tt)*) => $($rest:tt)*) => {
        $crate::__select_parse!($mode $arms $def $is $kind ($($args)*) -> _ => $($rest)*)
    };
    // An arm with a block body.
    ($mode:tt ($($arms:tt)*) $def:tt ($i:tt $($is:tt)*)
        $kind:ident ($($args:tt)*) -> $res:pat => { $($body:tt)* } , $($rest:tt)*) => {
        $crate::__select_parse!($mode ($($arms)* ($kind $i ($($args)*) ($res) ({ $($body)* })))
            $def ($($is)*) $($rest)*)
    };
    ($mode:tt ($($arms:tt)*) $def:tt ($i:tt $($is:tt)*)
        $kind:ident ($($args:tt)*) -> $res:pat => { $($body:tt)* } $($rest:tt)*) => {
        $crate::__select_parse!($mode ($($arms)* ($kind $i ($($args)*) ($res) ({ $($body)* })))
            $def ($($is)*) $($rest)*)
    };
    // An arm with an expression body.
    ($mode:tt ($($arms:tt)*) $def:tt ($i:tt $($is:tt)*)
        $kind:ident ($($args:tt)*) -> $res:pat => $body:expr , $($rest:tt)*) => {
        $crate::__select_parse!($mode ($($arms)* ($kind $i ($($args)*) ($res) ({ $body })))
            $def ($($is)*) $($rest)*)
    };
    ($mode:tt ($($arms:tt)*) $def:tt ($i:tt $($is:tt)*)
        $kind:ident ($($args:tt)*) -> $res:pat => $body:expr) => {
        $crate::__select_parse!($mode ($($arms)* ($kind $i ($($args)*) ($res) ({ $body })))
            $def ($($is)*))
    };
    ($mode:tt $arms:tt ($($def:tt)+) $is:tt default $($rest:tt)*) => {
        ::core::compile_error!("select: more than one `default` arm")
    };
    ($mode:tt $arms:tt $def:tt () $($rest:tt)+) => {
        ::core::compile_error!("select: at most 32 arms")
    };
    ($mode:tt $arms:tt $def:tt $is:tt $($rest:tt)+) => {
        ::core::compile_error!(
            "select: expected `recv(rx) -> res => body`, `send(tx, value) -> res => body` \
             or `default => body`"
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_chan {
    (recv $rx:expr) => {
        &$rx
    };
    (send $tx:expr, $v:expr) => {
        &$tx
    };
    ($other:ident $($t:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "select: unknown operation `",
            ::core::stringify!($other),
            "` (use recv or send)"
        ))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_new {
    (recv $c:expr; $rx:expr) => {
        $crate::select::__private::RecvArm::new($c)
    };
    (send $c:expr; $tx:expr, $v:expr) => {
        $crate::select::__private::SendArm::new($c, $v)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_gen {
    // Blocking, or any select with a `default` (which never waits, so async may use it).
    (($sync:ident $biased:tt) ($(($kind:ident $i:tt ($($args:tt)*) ($res:pat) ($body:block)))*)
        $def:tt) => {
        match ($($crate::__select_chan!($kind $($args)*),)*) {
            __chans => {
                #[allow(unused_mut)]
                let mut __arms = ($($crate::__select_new!($kind __chans.$i; $($args)*),)*);
                let __index = $crate::__select_run!($sync $biased $def
                    [$(&mut __arms.$i),*]);
                #[allow(unreachable_code)]
                match __index {
                    $(::core::option::Option::Some($i) => {
                        let $res = __arms.$i.take();
                        $body
                    })*
                    _ => $crate::__select_default!($def),
                }
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_run {
    (blocking $biased:tt () [$($arm:expr),*]) => {{
        let __list: &mut [&mut dyn $crate::select::__private::Arm] = &mut [$($arm),*];
        $crate::select::__private::run(__list, $crate::select::__private::Mode::Block, $biased)
    }};
    (async $biased:tt () [$($arm:expr),*]) => {{
        let __list: &mut [&mut (dyn $crate::select::__private::Arm + ::core::marker::Send)] =
            &mut [$($arm),*];
        ::core::option::Option::Some(
            $crate::select::__private::run_async(__list, $biased).await,
        )
    }};
    ($sync:ident $biased:tt ((()) $body:block) [$($arm:expr),*]) => {{
        let __list: &mut [&mut dyn $crate::select::__private::Arm] = &mut [$($arm),*];
        $crate::select::__private::run(__list, $crate::select::__private::Mode::NonBlock, $biased)
    }};
    (blocking $biased:tt ((($t:expr)) $body:block) [$($arm:expr),*]) => {{
        let __list: &mut [&mut dyn $crate::select::__private::Arm] = &mut [$($arm),*];
        $crate::select::__private::run(__list, $crate::select::__private::Mode::timeout($t), $biased)
    }};
    (async $biased:tt ((($t:expr)) $body:block) [$($arm:expr),*]) => {
        ::core::compile_error!(
            "select_async!: `default(timeout)` is not supported; add a \
             `recv(gochan::after(timeout))` arm"
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_default {
    (()) => {
        ::core::unreachable!("a select without default always completes an arm")
    };
    (($mode:tt $body:block)) => {
        $body
    };
}

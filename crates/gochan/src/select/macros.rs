//! `select!`, `select_async!` and their biased twins: a thin parsing layer that turns arms
//! into typed [`RecvArm`](super::arm::RecvArm)/[`SendArm`](super::arm::SendArm) (and, in
//! async selects, [`FutArm`](super::arm::FutArm)) locals and hands them to the engine.
//!
//! Expansion sketch (channel and value expressions are evaluated once, in source order,
//! before selecting, as in Go). The arms' borrows of the channel variables end before the
//! chosen body runs, so a body may reassign them (Go's `ch = nil` idiom, with
//! `gochan::never()`):
//! ```text
//! let (index, results) = {
//!     let chans = (&rx, (&tx, value));
//!     let mut arms = (RecvArm::new(chans.0), SendArm::new(chans.1.0, chans.1.1));
//!     let index = run(&mut [&mut arms.0, &mut arms.1], mode, biased);
//!     (index, (index == Some(0)).then(|| arms.0.take()), (index == Some(1)).then(..))
//! };
//! match index {
//!     Some(0) => { let res = results.0.unwrap(); body0 }
//!     Some(1) => { let res = results.1.unwrap(); body1 }
//!     _ => default_body,
//! }
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
/// `select! {}` (no arms, no default) panics instead of blocking forever. With the `tokio`
/// feature, a `select!` that would park a tokio worker thread panics (use
/// [`select_async!`](crate::select_async!) in async code); see
/// [`Receiver::recv`](crate::Receiver::recv).
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
/// `default` arm makes it non-blocking, `default(timeout)` waits at most `timeout`),
/// plus arms on any future, written as in `tokio::select!`:
/// `pat = future => body` (for example a `tokio::time::sleep` or a `JoinHandle`). The
/// pattern must be irrefutable.
///
/// Exactly one arm's body runs. At most one channel operation happens, and none if a
/// future arm wins; a future arm is polled in the same (random, or source-order when
/// biased) pass as the channel arms, and again whenever the select is woken. A future that
/// completes in the same instant as another party commits a channel arm loses: its output
/// is dropped, as `tokio::select!` drops the futures of arms it does not run.
///
/// # Cancel safety
/// Dropping the enclosing future while it waits removes every registration: no arm's
/// send happens and no received value is lost (it goes back to its channel). Future arms
/// are dropped with it (they are cancel-safe only if the futures are).
///
/// ```
/// # futures::executor::block_on(async {
/// use std::time::Duration;
/// let (_tx, rx) = gochan::bounded::<i32>(0);
/// let work = async { 40 + 2 };
/// let got = gochan::select_async! {
///     recv(rx) -> _ => unreachable!(),
///     n = work => n,
///     default(Duration::from_secs(5)) => unreachable!("timed out"),
/// };
/// assert_eq!(got, 42);
/// # });
/// ```
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
    ($mode:tt $arms:tt () $is:tt default $(($t:expr $(,)?))? => { $($body:tt)* } , $($rest:tt)*) => {
        $crate::__select_parse!($mode $arms ((($($t)?)) { $($body)* }) $is $($rest)*)
    };
    ($mode:tt $arms:tt () $is:tt default $(($t:expr $(,)?))? => { $($body:tt)* } $($rest:tt)*) => {
        $crate::__select_parse!($mode $arms ((($($t)?)) { $($body)* }) $is $($rest)*)
    };
    ($mode:tt $arms:tt () $is:tt default $(($t:expr $(,)?))? => $body:expr , $($rest:tt)*) => {
        $crate::__select_parse!($mode $arms ((($($t)?)) { $body }) $is $($rest)*)
    };
    ($mode:tt $arms:tt () $is:tt default $(($t:expr $(,)?))? => $body:expr) => {
        $crate::__select_parse!($mode $arms ((($($t)?)) { $body }) $is)
    };
    ($mode:tt $arms:tt () $is:tt default $(($t:expr $(,)?))? => $body:expr ; $($rest:tt)*) => {
        ::core::compile_error!("select: arms are separated by `,`, not `;`")
    };
    ($mode:tt $arms:tt () $is:tt default $(($t:expr $(,)?))? => $first:tt $($rest:tt)*) => {
        $crate::__select_missing_comma!((default) $($rest)*)
    };
    ($mode:tt $arms:tt ($($def:tt)+) $is:tt default $($rest:tt)*) => {
        ::core::compile_error!("select: more than one `default` arm")
    };
    ($mode:tt $arms:tt $def:tt () $($rest:tt)+) => {
        ::core::compile_error!("select: at most 32 arms")
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
    ($mode:tt $arms:tt $def:tt $is:tt
        $kind:ident ($($args:tt)*) -> $res:pat => $body:expr ; $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "select: arms are separated by `,`, not `;` (after the `",
            ::core::stringify!($kind), "(", ::core::stringify!($($args)*), ")` arm)"
        ))
    };
    ($mode:tt $arms:tt $def:tt $is:tt
        $kind:ident ($($args:tt)*) -> $res:pat => $first:tt $($rest:tt)*) => {
        $crate::__select_missing_comma!(($kind($($args)*)) $($rest)*)
    };
    // A future arm (`select_async!` only): `pat = future => body`.
    ($mode:tt ($($arms:tt)*) $def:tt ($i:tt $($is:tt)*)
        $res:pat = $fut:expr => { $($body:tt)* } , $($rest:tt)*) => {
        $crate::__select_parse!($mode ($($arms)* (__future $i ($fut) ($res) ({ $($body)* })))
            $def ($($is)*) $($rest)*)
    };
    ($mode:tt ($($arms:tt)*) $def:tt ($i:tt $($is:tt)*)
        $res:pat = $fut:expr => { $($body:tt)* } $($rest:tt)*) => {
        $crate::__select_parse!($mode ($($arms)* (__future $i ($fut) ($res) ({ $($body)* })))
            $def ($($is)*) $($rest)*)
    };
    ($mode:tt ($($arms:tt)*) $def:tt ($i:tt $($is:tt)*)
        $res:pat = $fut:expr => $body:expr , $($rest:tt)*) => {
        $crate::__select_parse!($mode ($($arms)* (__future $i ($fut) ($res) ({ $body })))
            $def ($($is)*) $($rest)*)
    };
    ($mode:tt ($($arms:tt)*) $def:tt ($i:tt $($is:tt)*)
        $res:pat = $fut:expr => $body:expr) => {
        $crate::__select_parse!($mode ($($arms)* (__future $i ($fut) ($res) ({ $body })))
            $def ($($is)*))
    };
    ($mode:tt $arms:tt $def:tt $is:tt $res:pat = $fut:expr => $first:tt $($rest:tt)*) => {
        $crate::__select_missing_comma!(($res = $fut) $($rest)*)
    };
    ($mode:tt $arms:tt $def:tt $is:tt $($rest:tt)+) => {
        ::core::compile_error!(
            "select: expected `recv(rx) -> res => body`, `send(tx, value) -> res => body`, \
             `default => body`, or (in select_async!) `pat = future => body`"
        )
    };
}

/// Only reached when an arm failed to parse: looks for the start of another arm in the
/// tokens after it, to say that a comma is missing (instead of a generic error).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_missing_comma {
    (($($arm:tt)*) $kind:ident ($($x:tt)*) -> $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "select: missing `,` between the `", ::core::stringify!($($arm)*),
            "` arm and the `", ::core::stringify!($kind), "(", ::core::stringify!($($x)*),
            ")` arm (an arm whose body is not a block must end with a comma)"
        ))
    };
    (($($arm:tt)*) $kind:ident ($($x:tt)*) => $($rest:tt)*) => {
        $crate::__select_missing_comma!(($($arm)*) $kind ($($x)*) -> $($rest)*)
    };
    (($($arm:tt)*) default $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "select: missing `,` between the `", ::core::stringify!($($arm)*),
            "` arm and the `default` arm"
        ))
    };
    (($($arm:tt)*) $t:tt $($rest:tt)*) => {
        $crate::__select_missing_comma!(($($arm)*) $($rest)*)
    };
    (($($arm:tt)*)) => {
        ::core::compile_error!(::core::concat!(
            "select: cannot parse the arm after `", ::core::stringify!($($arm)*),
            "`: expected `recv(rx) -> res => body`, `send(tx, value) -> res => body`, \\
             `default => body`, or (in select_async!) `pat = future => body`, separated by `,`"
        ))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_chan {
    ($sync:ident recv $rx:expr $(,)?) => {
        &$rx
    };
    ($sync:ident send $tx:expr, $v:expr $(,)?) => {
        // The value right after its channel: Go evaluates operands in source order.
        (&$tx, $v)
    };
    (async __future $f:expr) => {
        ::core::pin::pin!($f)
    };
    (blocking __future $f:expr) => {
        ::core::compile_error!(
            "select!: arms on futures (`pat = future => body`) need select_async!"
        )
    };
    ($sync:ident $other:ident $($t:tt)*) => {
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
    (recv $c:expr; $rx:expr $(,)?) => {
        $crate::select::__private::RecvArm::new($c)
    };
    (send $c:expr; $tx:expr, $v:expr $(,)?) => {
        $crate::select::__private::SendArm::new($c.0, $c.1)
    };
    (__future $c:expr; $f:expr) => {
        $crate::select::__private::FutArm::new($c)
    };
    ($other:ident $c:expr; $($t:tt)*) => {
        // Reported by `__select_chan!`.
        ()
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_gen {
    (($sync:ident $biased:tt) ($(($kind:ident $i:tt ($($args:tt)*) ($res:pat) ($body:block)))*)
        $def:tt) => {{
        // The arms (and their borrows of the channel variables) live only in this block:
        // the chosen arm's result is moved out, so its body may reassign the variables.
        #[allow(unused_variables)]
        let (__index, __results) = {
            // Every channel and send value, evaluated once, in source order (Go's spec);
            // the `&` temporaries live as long as `__chans`.
            let __chans = ($($crate::__select_chan!($sync $kind $($args)*),)*);
            #[allow(unused_mut)]
            let mut __arms = ($($crate::__select_new!($kind __chans.$i; $($args)*),)*);
            let __index: ::core::option::Option<usize> =
                $crate::__select_run!($sync $biased $def [$(&mut __arms.$i),*]);
            let __results = ($(
                if __index == ::core::option::Option::Some($i) {
                    ::core::option::Option::Some(__arms.$i.take())
                } else {
                    ::core::option::Option::None
                },
            )*);
            // Dropped here, not at the block's end: if an unsent value's `Drop` panics,
            // the unwinding still drops the received value in `__results`.
            ::core::mem::drop(__arms);
            (__index, __results)
        };
        #[allow(unreachable_code)]
        match __index {
            $(::core::option::Option::Some($i) => {
                let $res = match __results.$i {
                    ::core::option::Option::Some(__r) => __r,
                    ::core::option::Option::None => ::core::unreachable!(),
                };
                $body
            })*
            _ => $crate::__select_default!($def),
        }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_run {
    (blocking $biased:tt $def:tt [$($arm:expr),*]) => {{
        let __list: &mut [&mut dyn $crate::select::__private::Arm] = &mut [$($arm),*];
        $crate::select::__private::run(__list, $crate::__select_mode!($def), $biased)
    }};
    (async $biased:tt $def:tt [$($arm:expr),*]) => {{
        let __list: &mut [&mut (dyn $crate::select::__private::Arm + ::core::marker::Send)] =
            &mut [$($arm),*];
        // SAFETY: the arms are locals of this block, which awaits the future in place: they
        // stay where they are until the future is dropped or done.
        unsafe {
            $crate::select::__private::run_async(
                __list,
                $biased,
                $crate::__select_mode!($def),
            )
        }
        .await
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_mode {
    (()) => {
        $crate::select::__private::Mode::Block
    };
    (((()) $body:block)) => {
        $crate::select::__private::Mode::NonBlock
    };
    (((($t:expr)) $body:block)) => {
        $crate::select::__private::Mode::timeout($t)
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

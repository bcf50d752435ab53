//! The conformance suite on the native (mio) engine.
#![cfg(not(target_arch = "wasm32"))]

macro_rules! on_native {
    ($($(#[$($attr:tt)*])* $name:ident => $body:path),* $(,)?) => {
        $(
            #[test]
            $(#[$($attr)*])*
            fn $name() {
                lwt_native::run($body()).unwrap();
            }
        )*
    };
}

lwt_conformance::for_each_body!(on_native, native);

/// Tests of the native engine itself, beside the suite (not conformance
/// bodies).
mod engine_specific {
    /// `run` inside `run` is a clear error, not a deadlock.
    #[test]
    fn nested_run_is_an_error() {
        let inner = lwt_native::run(async { Ok(lwt_native::run(async { Ok(1) })) }).unwrap();
        assert!(inner.unwrap_err().is_invalid_argument());
    }

    /// Several runs one after the other on one thread.
    #[test]
    fn sequential_runs() {
        for i in 0..3 {
            let v = lwt_native::run(async move {
                lwt::sleep(std::time::Duration::from_millis(1)).await?;
                Ok(i)
            });
            assert_eq!(v.unwrap(), i);
        }
    }
}

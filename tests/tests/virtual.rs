//! The conformance suite on the virtual-time engine.

macro_rules! on_virtual {
    ($($(#[$($attr:tt)*])* $name:ident => $body:path),* $(,)?) => {
        $(
            #[test]
            $(#[$($attr)*])*
            fn $name() {
                let engine = lwt::testing::VirtualEngine::new();
                engine.block_on($body()).unwrap();
            }
        )*
    };
}

lwt_conformance::for_each_body!(on_virtual, virtual);

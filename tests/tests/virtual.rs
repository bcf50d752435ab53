//! The conformance suite on the virtual-time engine.

macro_rules! on_virtual {
    ($($name:ident => $body:path),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let engine = lwt::testing::VirtualEngine::new();
                engine.block_on($body()).unwrap();
            }
        )*
    };
}

lwt_conformance::for_each_body!(on_virtual);

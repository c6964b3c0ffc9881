fn expansion() {
    let _ = {
        let per_example = |op: &LayerNorm, x: ArrayViewD<f32>| {
            (op).__nnx_call().mask(None).__call(x)
        };
        move |
            op: &LayerNorm,
            x: <ArrayViewD<f32> as ::nnx::__private::Mappable>::Batched,
        | -> ::nnx::__private::Result<_, ::nnx::__private::VmapError> {
            let mut batch = ::nnx::__private::BatchSize::new(
                ::core::option::Option::None,
            );
            let mut x = ::nnx::__private::Slot::<ArrayViewD<f32>>::Mapped {
                batched: x,
                axis: 0isize,
            };
            batch.add("x", x.check("x")?)?;
            let size = batch.finish()?;
            ::nnx::__private::map_examples(
                size,
                ::nnx::__private::IntoAxes::into_axes(::nnx::__private::DefaultAxes),
                |index| {
                    ::nnx::__private::Result::Ok(
                        per_example(
                            ::core::clone::Clone::clone(&op),
                            x.example(index, "x")?,
                        ),
                    )
                },
            )
        }
    };
}

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
            let mut outputs = ::std::vec::Vec::with_capacity(size);
            for index in 0..size {
                let output = per_example(
                    ::core::clone::Clone::clone(&op),
                    x.example(index, "x")?,
                );
                let failed = ::nnx::__private::Unbatched::is_failure(&output);
                outputs.push(output);
                if failed {
                    break;
                }
            }
            ::nnx::__private::Unbatched::stack(
                outputs,
                ::nnx::__private::IntoAxes::into_axes(::nnx::__private::DefaultAxes),
            )
        }
    };
}

fn expansion() {
    let _ = {
        use ::nnx::__private::BatchView as _;
        let module = &(ln);
        module
            .__nnx_vmap()
            .__broadcast::<()>(module)
            .mask(::nnx::__private::Mapped((ms).__nnx_batch_view(), 1isize))
            .__out_axes(1isize)
            .__run(::nnx::__private::Mapped((xs).__nnx_batch_view(), 1isize))
    };
}

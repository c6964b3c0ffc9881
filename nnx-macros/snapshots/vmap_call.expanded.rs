fn expansion() {
    let _ = {
        use ::nnx::__private::BatchView as _;
        let __nnx_module = &(ln);
        __nnx_module
            .__nnx_vmap()
            .__broadcast::<()>(__nnx_module)
            .mask(::nnx::__private::Mapped((ms).__nnx_batch_view(), 1isize))
            .__out_axes(1isize)
            .run(::nnx::__private::Mapped((xs).__nnx_batch_view(), 1isize))
    };
}

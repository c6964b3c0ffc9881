fn expansion() {
    let _ = {
        let __nnx_module = &(ln);
        __nnx_module
            .__nnx_vmap()
            .__broadcast::<()>(__nnx_module)
            .mask(::nnx::__private::Mapped(&(ms), 1isize))
            .__out_axes(1isize)
            .run(::nnx::__private::Mapped(&(xs), 1isize))
    };
}

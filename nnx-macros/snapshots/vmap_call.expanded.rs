fn expansion() {
    let _ = {
        use ::nnx::__private::MapArg as _;
        let module = &(ln);
        module
            .__nnx_vmap()
            .__broadcast::<()>(module)
            .mask((&(ms), 1isize).__nnx_mapped())
            .__out_axes(1isize)
            .__run((&(xs), 1isize).__nnx_mapped())
    };
}

fn expansion() {
    let _ = (ln).__nnx_call().mask(m.view()).__call(x.view());
}

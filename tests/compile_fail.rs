//! Misuse is a compile error at the offending token; each `.stderr` here was read and
//! judged worth showing a user.

#[test]
fn compile_fail() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}

/// Names the user never wrote, which no expected message may show: the macros' own
/// entry points and the builders they generate.
const GENERATED: &[&str] = &[
    "__nnx",
    "__first",
    "_Call<",
    "_Vmap",
    "__private",
    "__call",
    "__run",
    // The tables and keyword builders behind `Methods` / `Keywords`.
    "_methods<",
    "_methods::",
    "_keywords<",
    "_keywords::",
    // The `#[call]` tables and vmap entries, and the builders' own steps.
    "_call::<",
    "_vmap_entry",
    "__broadcast",
    "__stacked",
    "__on",
];

#[test]
fn no_expected_message_names_generated_code() {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("tests/ui").expect("tests/ui exists") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|ext| ext != "stderr") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a readable .stderr");
        for (number, line) in text.lines().enumerate() {
            for name in GENERATED.iter().filter(|name| line.contains(*name)) {
                found.push(format!(
                    "{}:{}: `{name}` in: {line}",
                    path.display(),
                    number + 1
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "generated names in expected messages:\n{}",
        found.join("\n")
    );
}

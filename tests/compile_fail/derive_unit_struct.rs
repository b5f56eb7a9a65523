use hippocamp::LogNamespace;

#[derive(LogNamespace)]
struct Nothing;

fn main() {}

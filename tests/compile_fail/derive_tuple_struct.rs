use hippocamp::LogNamespace;

#[derive(LogNamespace)]
struct Point(f64, f64);

fn main() {}

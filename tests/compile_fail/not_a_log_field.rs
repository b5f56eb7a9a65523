use hippocamp::LogNamespace;

#[derive(LogNamespace)]
struct Params {
    layers: Vec<usize>,
    learning_rate: f64,
}

fn main() {}

use hippocamp::LogNamespace;

#[derive(LogNamespace)]
enum Optimizer {
    Sgd { lr: f64 },
    Adam { lr: f64, beta: f64 },
}

fn main() {}

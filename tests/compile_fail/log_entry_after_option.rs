use hippocamp::{log, Mode, Run};

fn main() -> Result<(), hippocamp::Error> {
    let run = Run::builder().mode(Mode::Debug).start()?;
    log!(run, "loss" += 0.5, step = 3, "acc" += 0.9)?;
    Ok(())
}

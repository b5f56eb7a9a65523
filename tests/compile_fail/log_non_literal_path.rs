use hippocamp::{log, Mode, Run};

fn main() -> Result<(), hippocamp::Error> {
    let run = Run::builder().mode(Mode::Debug).start()?;
    let path = "train/loss";
    log!(run, path += 0.5)?;
    Ok(())
}

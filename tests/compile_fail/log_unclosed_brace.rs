use hippocamp::{log, Mode, Run};

fn main() -> Result<(), hippocamp::Error> {
    let run = Run::builder().mode(Mode::Debug).start()?;
    let fold = 1;
    log!(run, "cv/fold_{fold/acc" += 0.5)?;
    Ok(())
}

//! `lwt::select!`: the first branch to resolve wins, the others are
//! canceled (their timers released, counted through the engine contract
//! with [`TimerCount`]), `protected` branches survive, already resolved
//! branches go in argument order, and canceled branches never panic.

use std::time::Duration;

use lwt::{Error, Promise};

use crate::counting::TimerCount;
use crate::log::ms;
use crate::Outcome;

/// The losing sleeps' timers are disarmed when the first branch wins.
pub async fn losers_timers_released() -> Outcome {
    let timers = TimerCount::new()?;
    let (short, long, longer) = timers.track(|| {
        (
            lwt::sleep(ms(1)),
            lwt::sleep(Duration::from_secs(30)),
            lwt::timeout::<u8>(Duration::from_secs(60)),
        )
    });
    assert_eq!(timers.live(), 3);
    let won = lwt::select! {
        s = short => s.map(|()| "short"),
        l = &long => l.map(|()| "long"),
        t = longer => t.map(|_| "timeout"),
    };
    assert_eq!(won?, "short");
    assert_eq!(timers.live(), 0);
    assert!(long.peek().unwrap().unwrap_err().is_canceled());
    Ok(())
}

/// A branch of another type, already resolved, wins at once and the
/// pending sleep's timer is released before the `select!` returns.
pub async fn mixed_types_resolved_winner() -> Outcome {
    let timers = TimerCount::new()?;
    let long = timers.track(|| lwt::sleep(Duration::from_secs(30)));
    assert_eq!(timers.live(), 1);
    let n: usize = lwt::select! {
        _ = long => 0,
        s = Promise::resolved(String::from("four")) => s?.len(),
        b = Promise::resolved(true) => usize::from(b?),
    };
    assert_eq!(n, 4);
    assert_eq!(timers.live(), 0);
    Ok(())
}

/// A branch wrapped in `protected` loses without being canceled: its
/// timer stays armed and it completes later.
pub async fn protected_branch_survives() -> Outcome {
    let timers = TimerCount::new()?;
    let (slow, unprotected, fast) = timers.track(|| {
        (
            lwt::sleep(ms(5)),
            lwt::sleep(Duration::from_secs(30)),
            lwt::sleep(ms(1)),
        )
    });
    let won = lwt::select! {
        _ = lwt::protected(&slow) => "slow",
        _ = &unprotected => "unprotected",
        _ = fast => "fast",
    };
    assert_eq!(won, "fast");
    assert!(slow.is_pending());
    assert!(unprotected.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(timers.live(), 1); // the protected sleep's
    slow.await?;
    assert_eq!(timers.live(), 0);
    Ok(())
}

/// Among branches already resolved, the first in argument order wins,
/// whether it is fulfilled or rejected.
pub async fn argument_order() -> Outcome {
    let (pending, _r) = lwt::task::<u8>();
    let first = lwt::select! {
        _ = &pending => 0,
        _ = Promise::resolved(()) => 1,
        _ = Promise::<()>::rejected(Error::msg("later")) => 2,
    };
    assert_eq!(first, 1);
    assert!(pending.peek().unwrap().unwrap_err().is_canceled());
    let rejected = lwt::select! {
        e = Promise::<u8>::rejected(Error::msg("first")) => e.map(u32::from),
        v = Promise::resolved(7u32) => v,
    };
    assert_eq!(rejected.unwrap_err().message(), "first");
    Ok(())
}

/// A branch rejected while the select waits wins with its error, and the
/// others are canceled.
pub async fn rejection_wins() -> Outcome {
    let (p, r) = lwt::task::<u8>();
    let other = lwt::sleep(Duration::from_secs(30));
    let failing = lwt::spawn(async move {
        lwt::sleep(ms(1)).await?;
        r.reject(Error::msg("broken"))?;
        Ok(())
    });
    let got = lwt::select! {
        v = p => v,
        _ = &other => Ok(0),
    };
    assert_eq!(got.unwrap_err().message(), "broken");
    assert!(other.peek().unwrap().unwrap_err().is_canceled());
    failing.await
}

/// Every branch canceled: the first one rejected wins with a canceled
/// error; canceling the task around a select reaches every branch.
pub async fn all_canceled() -> Outcome {
    let (a, _ra) = lwt::task::<u8>();
    let (b, _rb) = lwt::task::<String>();
    a.cancel();
    b.cancel();
    let seen = lwt::select! {
        x = &a => x.map(|_| "a"),
        y = &b => y.map(|_| "b"),
    };
    assert!(seen.unwrap_err().is_canceled());

    let timers = TimerCount::new()?;
    let t = timers.track(|| {
        // `spawn` polls at once: both sleeps are armed inside `track`.
        lwt::spawn(async {
            Ok(lwt::select! {
                x = lwt::sleep(Duration::from_secs(30)) => x.err().map(|e| e.is_canceled()),
                y = lwt::sleep(Duration::from_secs(60)) => y.err().map(|e| e.is_canceled()),
            })
        })
    });
    assert_eq!(timers.live(), 2);
    t.cancel();
    assert_eq!(t.await?, Some(true));
    assert_eq!(timers.live(), 0);
    Ok(())
}

/// A future that is not an lwt promise takes part through `lwt::spawn`.
pub async fn spawned_foreign_future() -> Outcome {
    let timers = TimerCount::new()?;
    let long = timers.track(|| lwt::sleep(Duration::from_secs(30)));
    let won = lwt::select! {
        v = lwt::spawn(async { Ok(futures::future::ready(5u8).await) }) => v?,
        _ = long => 0,
    };
    assert_eq!(won, 5);
    assert_eq!(timers.live(), 0);
    Ok(())
}

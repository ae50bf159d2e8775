//! Cold migration: the VM pauses at once and its memory and device state are copied once; it resumes
//! at the destination when the copy has arrived (`precopy::final_copy_done`). The downtime is the
//! whole migration.

use super::rule::{Begin, StrategyRule};
use crate::model::bitmap::Bitmap;
use crate::model::events::SimTime;
use crate::model::migration::{Ctx, InFlight, Stage};
use crate::model::transfer::cost_of;

pub struct Cold;

impl StrategyRule for Cold {
    fn name(&self) -> &'static str {
        "cold"
    }

    fn begin(&self) -> Begin {
        Begin::Cold
    }
}

/// Pause the VM and send `pages` (every page but the free ones) with the device state.
pub fn copy(c: &mut Ctx<'_>, now: SimTime, pages: &Bitmap) {
    let mg = &mut *c.mig;
    mg.stage = Stage::Cold;
    c.vm.paused = true;
    mg.stop_time = Some(now);
    mg.converged = true;
    mg.stop_reason = "cold";
    let present = mg.cpu.tracks_present().then_some(&mg.present);
    let b = cost_of(pages, &c.vm.mem.nonzero, mg.untouched.as_deref(), present, mg.cost);
    mg.final_batch = b;
    mg.in_flight = InFlight::Final;
    let dev = c.spec.device_state_bytes;
    let bytes = b.bytes + dev;
    let cap = mg.cpu.cap(&b, dev, mg.p.max_bandwidth_bps.unwrap_or(f64::INFINITY));
    c.send(bytes, cap, now);
}

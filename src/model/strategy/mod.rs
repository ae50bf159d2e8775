//! The migration strategies: which phases a migration goes through. Pre-copy sends memory while the
//! VM runs, then stops it for the rest; post-copy moves the VM first and fetches memory after;
//! hybrid runs pre-copy, then switches to post-copy; cold stops the VM and copies it once.

use crate::names::name_of;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    PreCopy,
    PostCopy,
    Hybrid,
    Cold,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [Strategy::PreCopy, Strategy::PostCopy, Strategy::Hybrid, Strategy::Cold];
    pub const NAMES: [(&'static str, Strategy); 4] =
        [("precopy", Strategy::PreCopy), ("postcopy", Strategy::PostCopy), ("hybrid", Strategy::Hybrid), ("cold", Strategy::Cold)];
    pub fn name(self) -> &'static str {
        name_of(&Self::NAMES, self)
    }
}

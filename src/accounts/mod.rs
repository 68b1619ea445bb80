//! Accounts: learners and administrators, and how they prove who they are.

pub mod admins;
mod email;
pub mod jit;
pub mod learners;

pub use email::{Email, InvalidEmail};

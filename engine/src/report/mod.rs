//! `evoflow report`: one self-contained HTML file drawn from the journal — the runs, how the best
//! score moved, which operators and personas paid off, the lineage of the winners, the online
//! decisions with their intervals, and a timeline of the steps.

mod data;
mod page;

pub use data::{read, ReportData};
pub use page::render;

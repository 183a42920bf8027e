//! Label sheets as data: where each label sits on the page, and which page and position the
//! n-th label of a print run lands on when the first sheet is partly used.

use crate::LabelError;

/// One inch in PDF points.
pub const INCH: f64 = 72.0;
/// One millimetre in PDF points.
pub const MM: f64 = 72.0 / 25.4;

/// A sheet of labels in a regular grid. Lengths are PDF points (72 to the inch) measured from
/// the top-left corner of the page, the way vendors publish their templates; labels are
/// numbered left to right, then top to bottom, as people count them when peeling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SheetLayout {
    /// Page width.
    pub page_width: f64,
    /// Page height.
    pub page_height: f64,
    /// From the top of the page to the top of the first row.
    pub top_margin: f64,
    /// From the left of the page to the left of the first column.
    pub left_margin: f64,
    /// Width of one label.
    pub label_width: f64,
    /// Height of one label.
    pub label_height: f64,
    /// From the left edge of one column to the left edge of the next (label width + gap).
    pub horizontal_pitch: f64,
    /// From the top edge of one row to the top edge of the next (label height + gap).
    pub vertical_pitch: f64,
    /// Labels across.
    pub columns: u32,
    /// Labels down.
    pub rows: u32,
}

/// A label's rectangle on its page in PDF coordinates (origin bottom left).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Bottom edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// Where one label is printed: page (from 0), row and column (from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Page of the PDF, from 0.
    pub page: usize,
    /// Row on the sheet, from 0 at the top.
    pub row: u32,
    /// Column on the sheet, from 0 at the left.
    pub column: u32,
}

impl SheetLayout {
    /// Avery 5160 (and its equivalents 5260, 5960, 8160, 18160): the 30-up address-label sheet
    /// many libraries put item barcode labels on. US Letter, 3 x 10 labels of 2 5/8" x 1",
    /// 1/2" top margin, 3/16" left margin, 1/8" between columns, no gap between rows
    /// (Avery's published template).
    pub const AVERY_5160: SheetLayout = SheetLayout {
        page_width: 8.5 * INCH,
        page_height: 11.0 * INCH,
        top_margin: 0.5 * INCH,
        left_margin: 0.1875 * INCH,
        label_width: 2.625 * INCH,
        label_height: 1.0 * INCH,
        horizontal_pitch: 2.75 * INCH,
        vertical_pitch: 1.0 * INCH,
        columns: 3,
        rows: 10,
    };

    /// Demco WS14942260, a laser spine-label sheet sold to libraries: US Letter, 5 x 10 labels
    /// of 1 1/2" wide x 1" high, 1/2" top margin, 1/4" left margin, 1/16" between columns, no
    /// gap between rows. The figures are Koha's label-creator template for this sheet
    /// (installer sample data, "Demco WS14942260 | 1" X 1.5" Spine Label").
    pub const DEMCO_WS14942260: SheetLayout = SheetLayout {
        page_width: 8.5 * INCH,
        page_height: 11.0 * INCH,
        top_margin: 0.5 * INCH,
        left_margin: 0.25 * INCH,
        label_width: 1.5 * INCH,
        label_height: 1.0 * INCH,
        horizontal_pitch: 1.5625 * INCH,
        vertical_pitch: 1.0 * INCH,
        columns: 5,
        rows: 10,
    };

    /// The named layouts, by the names a command line or API takes.
    pub const NAMED: [(&'static str, SheetLayout); 2] =
        [("avery-5160", SheetLayout::AVERY_5160), ("demco-ws14942260", SheetLayout::DEMCO_WS14942260)];

    /// The named layout called `name` (case-insensitive), if there is one.
    pub fn named(name: &str) -> Option<SheetLayout> {
        SheetLayout::NAMED.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, l)| *l)
    }

    /// Labels on one sheet.
    pub fn per_sheet(&self) -> usize {
        self.columns as usize * self.rows as usize
    }

    /// Refuses a layout whose labels overlap, fall off the page, or do not exist, so a custom
    /// layout fails before anything is printed on a sheet of labels that cost money.
    pub fn validate(&self) -> Result<(), LabelError> {
        let lengths = [
            self.page_width,
            self.page_height,
            self.top_margin,
            self.left_margin,
            self.label_width,
            self.label_height,
            self.horizontal_pitch,
            self.vertical_pitch,
        ];
        let invalid = |reason| Err(LabelError::InvalidLayout(reason));
        if lengths.iter().any(|l| !l.is_finite() || *l < 0.0) {
            return invalid("lengths must be finite and not negative");
        }
        if self.columns == 0 || self.rows == 0 {
            return invalid("a sheet needs at least one column and one row");
        }
        if self.label_width <= 0.0 || self.label_height <= 0.0 {
            return invalid("labels need a width and a height");
        }
        // A thousandth of a point absorbs decimal templates such as Koha's that add up exactly
        // on paper but not in binary.
        const SLACK: f64 = 0.001;
        if self.columns > 1 && self.horizontal_pitch + SLACK < self.label_width {
            return invalid("labels overlap across: the horizontal pitch is less than the label width");
        }
        if self.rows > 1 && self.vertical_pitch + SLACK < self.label_height {
            return invalid("labels overlap down: the vertical pitch is less than the label height");
        }
        let right = self.left_margin + f64::from(self.columns - 1) * self.horizontal_pitch + self.label_width;
        if right > self.page_width + SLACK {
            return invalid("the last column runs off the right of the page");
        }
        let bottom = self.top_margin + f64::from(self.rows - 1) * self.vertical_pitch + self.label_height;
        if bottom > self.page_height + SLACK {
            return invalid("the last row runs off the bottom of the page");
        }
        Ok(())
    }

    /// The rectangle of the label at `row`, `column`, in PDF coordinates.
    pub fn label_rect(&self, row: u32, column: u32) -> Rect {
        let x = self.left_margin + f64::from(column) * self.horizontal_pitch;
        let top = self.page_height - self.top_margin - f64::from(row) * self.vertical_pitch;
        Rect { x, y: top - self.label_height, width: self.label_width, height: self.label_height }
    }
}

/// A print run's sheet: the layout, and how many positions of the first sheet are already used
/// (peeled off in an earlier run), so a partly used sheet is not wasted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sheet {
    /// The label sheet.
    pub layout: SheetLayout,
    /// Positions already used on the first sheet, counted left to right, top to bottom.
    pub offset: usize,
}

impl Sheet {
    /// A fresh sheet of `layout`.
    pub fn new(layout: SheetLayout) -> Sheet {
        Sheet { layout, offset: 0 }
    }

    /// The same sheet with its first `offset` positions already used.
    pub fn starting_at(self, offset: usize) -> Sheet {
        Sheet { offset, ..self }
    }

    /// Checks the layout and that the offset leaves at least one position on the first sheet.
    pub fn validate(&self) -> Result<(), LabelError> {
        self.layout.validate()?;
        let per_sheet = self.layout.per_sheet();
        if self.offset >= per_sheet {
            return Err(LabelError::OffsetPastSheet { offset: self.offset, per_sheet });
        }
        Ok(())
    }

    /// Where the `index`-th label of the run (from 0) is printed. Assumes a validated sheet.
    pub fn slot(&self, index: usize) -> Slot {
        let per_sheet = self.layout.per_sheet().max(1);
        let columns = self.layout.columns.max(1) as usize;
        let n = self.offset + index;
        let within = n % per_sheet;
        // `within` is below columns * rows, both u32, so the quotient and remainder fit a u32.
        Slot {
            page: n / per_sheet,
            row: u32::try_from(within / columns).unwrap_or(u32::MAX),
            column: u32::try_from(within % columns).unwrap_or(u32::MAX),
        }
    }

    /// Pages a run of `count` labels fills.
    pub fn pages(&self, count: usize) -> usize {
        if count == 0 {
            0
        } else {
            self.slot(count - 1).page + 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn named_layouts_are_valid_and_fill_the_page_as_published() {
        for (name, layout) in SheetLayout::NAMED {
            layout.validate().expect("valid");
            assert_eq!(SheetLayout::named(name), Some(layout));
            assert_eq!(SheetLayout::named(&name.to_uppercase()), Some(layout));
        }
        assert_eq!(SheetLayout::named("avery-9999"), None);
        let avery = SheetLayout::AVERY_5160;
        assert_eq!(avery.per_sheet(), 30);
        // Symmetric: 3/16" left and right, 1/2" top and bottom.
        let last = avery.label_rect(9, 2);
        assert!((avery.page_width - (last.x + last.width) - 0.1875 * INCH).abs() < 1e-9);
        assert!((last.y - 0.5 * INCH).abs() < 1e-9);
        let demco = SheetLayout::DEMCO_WS14942260;
        assert_eq!(demco.per_sheet(), 50);
        let first = demco.label_rect(0, 0);
        assert_eq!((first.x, first.y + first.height), (18.0, 792.0 - 36.0));
        let last = demco.label_rect(9, 4);
        assert!((last.x + last.width - 8.0 * INCH).abs() < 1e-9);
        assert!((last.y - 0.5 * INCH).abs() < 1e-9);
    }

    #[test]
    fn offset_29_on_a_30_up_sheet_puts_the_next_label_on_page_two() {
        let sheet = Sheet::new(SheetLayout::AVERY_5160).starting_at(29);
        sheet.validate().expect("valid");
        assert_eq!(sheet.slot(0), Slot { page: 0, row: 9, column: 2 });
        assert_eq!(sheet.slot(1), Slot { page: 1, row: 0, column: 0 });
        assert_eq!(sheet.slot(30), Slot { page: 1, row: 9, column: 2 });
        assert_eq!(sheet.slot(31), Slot { page: 2, row: 0, column: 0 });
        assert_eq!(sheet.pages(1), 1);
        assert_eq!(sheet.pages(2), 2);
        assert_eq!(sheet.pages(31), 2);
        assert_eq!(sheet.pages(32), 3);
        assert_eq!(sheet.pages(0), 0);
    }

    #[test]
    fn slots_run_left_to_right_then_down() {
        let sheet = Sheet::new(SheetLayout::AVERY_5160).starting_at(3);
        assert_eq!(sheet.slot(0), Slot { page: 0, row: 1, column: 0 });
        assert_eq!(sheet.slot(2), Slot { page: 0, row: 1, column: 2 });
        assert_eq!(sheet.slot(3), Slot { page: 0, row: 2, column: 0 });
        assert_eq!(sheet.slot(26), Slot { page: 0, row: 9, column: 2 });
        assert_eq!(sheet.slot(27), Slot { page: 1, row: 0, column: 0 });
        assert_eq!(sheet.pages(35), 2);
    }

    #[test]
    fn offset_must_leave_a_position() {
        let sheet = Sheet::new(SheetLayout::AVERY_5160).starting_at(30);
        assert_eq!(sheet.validate(), Err(LabelError::OffsetPastSheet { offset: 30, per_sheet: 30 }));
    }

    #[test]
    fn bad_custom_layouts_are_refused() {
        let ok = SheetLayout::AVERY_5160;
        let cases = [
            SheetLayout { columns: 0, ..ok },
            SheetLayout { rows: 0, ..ok },
            SheetLayout { label_width: 0.0, ..ok },
            SheetLayout { horizontal_pitch: 2.0 * INCH, ..ok },
            SheetLayout { vertical_pitch: 0.9 * INCH, ..ok },
            SheetLayout { left_margin: 1.0 * INCH, ..ok },
            SheetLayout { rows: 11, ..ok },
            SheetLayout { top_margin: f64::NAN, ..ok },
            SheetLayout { page_width: -1.0, ..ok },
        ];
        for layout in cases {
            assert!(matches!(layout.validate(), Err(LabelError::InvalidLayout(_))), "{layout:?}");
        }
        // One A4 column of 99.1 x 38.1 mm labels: a custom layout in millimetres.
        let a4 = SheetLayout {
            page_width: 210.0 * MM,
            page_height: 297.0 * MM,
            top_margin: 15.1 * MM,
            left_margin: 4.65 * MM,
            label_width: 99.1 * MM,
            label_height: 38.1 * MM,
            horizontal_pitch: 101.6 * MM,
            vertical_pitch: 38.1 * MM,
            columns: 2,
            rows: 7,
        };
        a4.validate().expect("valid");
    }

    proptest! {
        #[test]
        fn slots_are_consecutive_positions(offset in 0usize..30, count in 1usize..200) {
            let sheet = Sheet::new(SheetLayout::AVERY_5160).starting_at(offset);
            let mut seen = std::collections::HashSet::new();
            for i in 0..count {
                let s = sheet.slot(i);
                prop_assert!(s.row < 10 && s.column < 3);
                let linear = s.page * 30 + s.row as usize * 3 + s.column as usize;
                prop_assert_eq!(linear, offset + i);
                prop_assert!(seen.insert(linear));
            }
            prop_assert_eq!(sheet.pages(count), (offset + count).div_ceil(30));
        }
    }
}

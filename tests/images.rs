//! Reading a user's picture for `predict`: the aspect ratio is kept (padded with the background
//! to a square, not stretched), and a dark-on-light picture is recognized so it can be inverted.

use std::path::Path;

use gpu_mlp::image::{decode_gray, invert, looks_dark_on_light};

/// An ASCII PGM (P2) of `width × height` pixels.
fn pgm(width: usize, height: usize, pixels: &[u8]) -> Vec<u8> {
    let values: Vec<String> = pixels.iter().map(|v| v.to_string()).collect();
    format!("P2\n{width} {height}\n255\n{}\n", values.join(" ")).into_bytes()
}

#[test]
fn a_wide_image_keeps_its_aspect_ratio() {
    // 6×3: a light bar across the middle row, black border.
    let mut pixels = vec![0u8; 18];
    pixels[7..11].fill(255);
    let gray = decode_gray(Path::new("bar.pgm"), &pgm(6, 3, &pixels), 6).expect("decodes");
    let row = |y: usize| &gray[y * 6..(y + 1) * 6];
    assert_eq!(row(2), [0, 255, 255, 255, 255, 0], "{gray:?}");
    for y in [0, 1, 3, 4, 5] {
        assert!(row(y).iter().all(|&v| v == 0), "row {y} is background: {gray:?}");
    }
}

#[test]
fn dark_on_light_is_recognized_and_inverts() {
    let mut pixels = vec![255u8; 16];
    pixels[5] = 0;
    pixels[10] = 0;
    let mut gray = decode_gray(Path::new("ink.pgm"), &pgm(4, 4, &pixels), 4).expect("decodes");
    assert!(looks_dark_on_light(&gray, 4));
    invert(&mut gray);
    assert!(!looks_dark_on_light(&gray, 4));
    assert_eq!((gray[5], gray[0]), (255, 0));
}

package data

import (
	"image"
)

// ycbcrToRGB converts a decoded JPEG to RGB the way libjpeg does by default,
// and so PIL: where the colour planes were stored at half resolution (4:2:0
// or 4:2:2 chroma subsampling, as in most photos), they are interpolated
// back ("fancy upsampling": each output sample is 3/4 of the nearer stored
// sample and 1/4 of the next one, in each halved direction) rather than
// repeated as Go's image/jpeg does, and YCbCr becomes RGB through libjpeg's
// fixed-point formulas (jdsample.c and jdcolor.c of libjpeg-turbo).
// Without this, colour edges in photos differ from PIL's by tens of levels.
//
// It reports false for layouts it does not handle (other subsampling
// ratios, planes not starting at the origin); the caller then uses Go's
// conversion.
func ycbcrToRGB(src *image.YCbCr) (*image.RGBA, bool) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	if src.Rect.Min != (image.Point{}) {
		return nil, false
	}
	var halfW, halfH bool
	switch src.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio422:
		halfW = true
	case image.YCbCrSubsampleRatio420:
		halfW, halfH = true, true
	default:
		return nil, false
	}
	cb := upsample(src.Cb, src.CStride, w, h, halfW, halfH)
	cr := upsample(src.Cr, src.CStride, w, h, halfW, halfH)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			r, g, b := libjpegYCbCrToRGB(src.Y[y*src.YStride+x], cb[y*w+x], cr[y*w+x])
			i := out.PixOffset(x, y)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = r, g, b, 0xff
		}
	}
	return out, true
}

// upsample returns a chroma plane at full resolution, w×h. The stored plane
// has ⌈w/2⌉ columns when halfW and ⌈h/2⌉ rows when halfH; the samples
// beyond its edges are taken to repeat the edge ones.
func upsample(plane []uint8, stride, w, h int, halfW, halfH bool) []uint8 {
	cw, ch := w, h
	if halfW {
		cw = (w + 1) / 2
	}
	if halfH {
		ch = (h + 1) / 2
	}
	at := func(x, y int) int { return int(plane[min(max(y, 0), ch-1)*stride+min(max(x, 0), cw-1)]) }
	out := make([]uint8, w*h)
	// libjpeg interpolates only planes more than 2 samples wide; narrower
	// ones, and directions that are not halved, are repeated.
	fancy := halfW && cw > 2
	for y := range h {
		row := out[y*w : (y+1)*w]
		switch {
		case !halfW:
			for x := range w {
				row[x] = uint8(at(x, y))
			}
		case !fancy:
			cy := y
			if halfH {
				cy = y / 2
			}
			for x := range w {
				row[x] = uint8(at(x/2, cy))
			}
		case !halfH: // 4:2:2, h2v1_fancy_upsample: out = (3·near + far + 1 or 2) / 4
			for x := range w {
				i, far := x/2, x/2-1
				bias := 1
				if x%2 == 1 {
					far, bias = i+1, 2
				}
				row[x] = uint8((3*at(i, y) + at(far, y) + bias) >> 2)
			}
		default: // 4:2:0, h2v2_fancy_upsample: first vertically, then horizontally
			cy, fy := y/2, y/2-1 // the stored row and the nearer of its neighbours
			if y%2 == 1 {
				fy = cy + 1
			}
			colsum := func(i int) int { return 3*at(i, cy) + at(i, fy) }
			for x := range w {
				i, far := x/2, x/2-1
				bias := 8
				if x%2 == 1 {
					far, bias = i+1, 7
				}
				row[x] = uint8((3*colsum(i) + colsum(far) + bias) >> 4)
			}
		}
	}
	return out
}

// libjpegYCbCrToRGB is libjpeg's ycc_rgb_convert: the JFIF equations
//
//	R = Y + 1.402·(Cr − 128)
//	G = Y − 0.34414·(Cb − 128) − 0.71414·(Cr − 128)
//	B = Y + 1.772·(Cb − 128)
//
// in 16.16 fixed point, rounded, clamped to [0, 255].
func libjpegYCbCrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	const half = 1 << 15
	fix := func(x float64) int32 { return int32(x*(1<<16) + 0.5) }
	yy, b, r := int32(y), int32(cb)-128, int32(cr)-128
	clamp := func(v int32) uint8 { return uint8(min(max(v, 0), 255)) }
	return clamp(yy + (fix(1.40200)*r+half)>>16),
		clamp(yy + (-fix(0.34414)*b-fix(0.71414)*r+half)>>16),
		clamp(yy + (fix(1.77200)*b+half)>>16)
}

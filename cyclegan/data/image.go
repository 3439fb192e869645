package data

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"

	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/tensor"
)

// maxPixels bounds the images ReadImage accepts (64 megapixels), so that a
// corrupt header cannot make it allocate gigabytes.
const maxPixels = 1 << 26

// format is an image format ReadImage decodes, recognised by the first bytes
// of the file rather than by its name.
type format struct {
	name   string
	magic  string
	decode func(io.Reader) (image.Image, error)
	config func(io.Reader) (image.Config, error)
}

var formats = []format{
	{"JPEG", "\xff\xd8\xff", jpeg.Decode, jpeg.DecodeConfig},
	{"PNG", "\x89PNG\r\n\x1a\n", png.Decode, png.DecodeConfig},
	{"BMP", "BM", bmp.Decode, bmp.DecodeConfig},
	{"TIFF", "II*\x00", tiff.Decode, tiff.DecodeConfig},
	{"TIFF", "MM\x00*", tiff.Decode, tiff.DecodeConfig},
}

// ReadImage reads an image file and returns it as opaque 8-bit RGB, as
// PIL's Image.open(path).convert('RGB') does: grayscale is copied to the
// three channels, palettes are looked up, CMYK is converted, and alpha is
// dropped (the stored colour is kept, not blended onto a background).
// Colour JPEGs are converted as libjpeg converts them (see ycbcrToRGB), so
// pixels agree with PIL's to a level or two.
//
// JPEG, PNG, BMP and TIFF files are read, whatever their name. Errors name
// the file and say what is wrong: empty, truncated, corrupt, or another
// format (GIF, WebP, a text file named .jpg, …).
func ReadImage(path string) (*image.RGBA, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	img, err := decode(raw)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return toRGB(img), nil
}

// decode recognises the format of raw and decodes it.
func decode(raw []byte) (image.Image, error) {
	if len(raw) == 0 {
		return nil, errors.New("empty file, not an image")
	}
	for _, f := range formats {
		if !bytes.HasPrefix(raw, []byte(f.magic)) {
			continue
		}
		cfg, err := f.config(bytes.NewReader(raw))
		if err != nil {
			return nil, decodeError(f.name, err)
		}
		if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxPixels/max(cfg.Height, 1) {
			return nil, fmt.Errorf("%s image of %d×%d pixels: empty or too large", f.name, cfg.Width, cfg.Height)
		}
		img, err := f.decode(bytes.NewReader(raw))
		if err != nil {
			return nil, decodeError(f.name, err)
		}
		return img, nil
	}
	return nil, fmt.Errorf("unsupported format (%s); images must be JPEG, PNG, BMP or TIFF", describe(raw))
}

func decodeError(format string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("truncated %s: the file ends too early (%v)", format, err)
	}
	return fmt.Errorf("corrupt %s: %w", format, err)
}

// describe guesses what a file that is not a supported image holds.
func describe(raw []byte) string {
	switch {
	case bytes.HasPrefix(raw, []byte("GIF8")):
		return "a GIF image"
	case len(raw) >= 12 && string(raw[:4]) == "RIFF" && string(raw[8:12]) == "WEBP":
		return "a WebP image"
	case len(raw) >= 12 && string(raw[4:8]) == "ftyp":
		return "an HEIF/AVIF/MP4 file"
	}
	head := raw[:min(len(raw), 64)]
	text := true
	for _, c := range head {
		if c < 0x09 || (c > 0x0d && c < 0x20) {
			text = false
		}
	}
	if text {
		return fmt.Sprintf("text: %q", head)
	}
	return fmt.Sprintf("unknown content starting % x", raw[:min(len(raw), 8)])
}

// toRGB converts any decoded image to an opaque RGBA image with its origin
// at (0, 0), following PIL's convert('RGB').
func toRGB(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	set := func(x, y int, r, g, bl uint8) {
		i := out.PixOffset(x, y)
		out.Pix[i+0], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = r, g, bl, 0xff
	}
	switch src := img.(type) {
	case *image.YCbCr: // colour JPEG
		if rgb, ok := ycbcrToRGB(src); ok {
			return rgb
		}
		draw.Draw(out, out.Bounds(), src, b.Min, draw.Src)
	case *image.Gray:
		for y := range b.Dy() {
			for x := range b.Dx() {
				v := src.GrayAt(b.Min.X+x, b.Min.Y+y).Y
				set(x, y, v, v, v)
			}
		}
	case *image.NRGBA64: // 16-bit with alpha: keep the stored colour
		for y := range b.Dy() {
			for x := range b.Dx() {
				c := src.NRGBA64At(b.Min.X+x, b.Min.Y+y)
				set(x, y, uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8))
			}
		}
	default:
		// NRGBA (PNG with alpha) and NRGBA palette entries come back
		// unchanged from NRGBAModel, so alpha is dropped without touching
		// the colour; opaque colours convert exactly.
		for y := range b.Dy() {
			for x := range b.Dx() {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				set(x, y, c.R, c.G, c.B)
			}
		}
	}
	return out
}

// Resize returns img scaled to w×h pixels with bicubic interpolation, as
// PIL's Image.resize((w, h), Image.BICUBIC): Keys' cubic with a = −0.5
// (golang.org/x/image/draw's CatmullRom), widened to cover every source pixel
// when shrinking (antialiasing). Like PIL, it scales the width first and then
// the height, rounding to 8 bits and clipping in between, so that the
// overshoot of the cubic at sharp edges is clipped as PIL clips it. An image
// already w×h is returned as is.
func Resize(img *image.RGBA, w, h int) *image.RGBA {
	if img.Rect.Dx() != w {
		img = resize1(img, w, img.Rect.Dy())
	}
	if img.Rect.Dy() != h {
		img = resize1(img, w, h)
	}
	return img
}

// resize1 is one pass of Resize (one of w, h is img's own, and the kernel
// is then the identity along that axis). The kernel scaler works at 16 bits;
// the result is rounded to 8.
func resize1(img *image.RGBA, w, h int) *image.RGBA {
	wide := image.NewRGBA64(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(wide, wide.Bounds(), img, img.Bounds(), draw.Src, nil)
	out := image.NewRGBA(wide.Bounds())
	for i := range out.Pix {
		v := uint32(wide.Pix[2*i])<<8 | uint32(wide.Pix[2*i+1]) // big-endian 16 bits
		out.Pix[i] = uint8((v*255 + 0xffff/2) / 0xffff)         // round(v/257)
	}
	return out
}

// ImageToTensor returns img as a Float32 CPU tensor (1, 3, H, W) in
// [−1, 1], as torchvision's ToTensor and Normalize((0.5,)*3, (0.5,)*3):
// x = (v/255 − 0.5)/0.5, computed in float32. Images that are not opaque
// RGBA are converted to RGB first (see ReadImage).
func ImageToTensor(img image.Image) *tensor.Tensor {
	return imageTensor(img, func(v float32) float32 { return (v - 0.5) / 0.5 })
}

// ImageToUnitTensor returns img as a Float32 CPU tensor (1, 3, H, W) in
// [0, 1], as torchvision's ToTensor alone: x = v/255 (what the FID network
// takes). Images that are not opaque RGBA are converted to RGB first.
func ImageToUnitTensor(img image.Image) *tensor.Tensor {
	return imageTensor(img, func(v float32) float32 { return v })
}

// imageTensor lays out the RGB values v/255 of img channel by channel,
// each passed through scale.
func imageTensor(img image.Image, scale func(float32) float32) *tensor.Tensor {
	rgb, ok := img.(*image.RGBA)
	if !ok || !rgb.Opaque() {
		rgb = toRGB(img)
	}
	h, w := rgb.Rect.Dy(), rgb.Rect.Dx()
	out := make([]float32, 3*h*w)
	for y := range h {
		for x := range w {
			p := rgb.Pix[rgb.PixOffset(rgb.Rect.Min.X+x, rgb.Rect.Min.Y+y):]
			for c := range 3 {
				out[(c*h+y)*w+x] = scale(float32(p[c]) / 255)
			}
		}
	}
	return tensor.FromFloat32s(out, 1, 3, h, w)
}

// TensorToImage returns an image tensor in [−1, 1] as 8-bit RGB, as
// pytorch-CycleGAN-and-pix2pix's util.tensor2im: v = (x + 1)/2·255 in
// float32, clamped to [0, 255] and truncated (not rounded), so a value
// that went through ImageToTensor may come back one level lower, as in the
// reference. t is (1, C, H, W) or (C, H, W) with C = 3, or C = 1 for a gray
// image (copied to the three channels), on any backend and of either dtype.
// Only the first image of a batch is used, as tensor2im does.
func TensorToImage(t *tensor.Tensor) *image.RGBA {
	s := t.Shape()
	if len(s) == 4 {
		s = s[1:]
	}
	if len(s) != 3 || (s[0] != 3 && s[0] != 1) {
		panic(fmt.Sprintf("data.TensorToImage: want (1, 3, H, W) or (3, H, W), got %v", t.Shape()))
	}
	c, h, w := s[0], s[1], s[2]
	vals := t.Values()[:c*h*w]
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			p := out.Pix[y*out.Stride+4*x:]
			for k := range 3 {
				v := float32(vals[(min(k, c-1)*h+y)*w+x])
				v = float32(float32(v+1)/2) * 255
				p[k] = uint8(math.Max(0, math.Min(255, float64(v))))
			}
			p[3] = 0xff
		}
	}
	return out
}

// SavePNG writes an image tensor (see TensorToImage) as an 8-bit RGB PNG
// file, atomically (see checkpoint.WriteFileAtomic), making missing parent
// folders.
func SavePNG(path string, t *tensor.Tensor) error {
	return writePNG(path, TensorToImage(t))
}

// writePNG writes img to path atomically, making missing folders.
func writePNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// LoadImage reads an image for testing or translation, as the reference's
// test phase (load_size = crop_size = size, no flip): converted to RGB,
// resized to size×size with bicubic interpolation, scaled to [−1, 1]:
// a Float32 CPU tensor (1, 3, size, size).
func LoadImage(path string, size int) (*tensor.Tensor, error) {
	if size <= 0 {
		return nil, fmt.Errorf("data: loading %s: size %d must be positive", path, size)
	}
	img, err := ReadImage(path)
	if err != nil {
		return nil, err
	}
	return ImageToTensor(Resize(img, size, size)), nil
}

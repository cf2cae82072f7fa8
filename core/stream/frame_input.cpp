#include "frame_input.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

namespace ecotta::stream {

namespace {

// Per format: bytes per pixel of plane 0 for packed formats (0 for YUV) and
// where R, G and B sit inside a pixel.
struct FormatInfo {
  const char* name;
  int channels;
  int r, g, b;
};

constexpr FormatInfo kFormats[] = {
    {"RGB", 3, 0, 1, 2},   {"BGR", 3, 2, 1, 0},   {"RGBx", 4, 0, 1, 2}, {"BGRx", 4, 2, 1, 0}, {"xRGB", 4, 1, 2, 3},
    {"xBGR", 4, 3, 2, 1},  {"RGBA", 4, 0, 1, 2},  {"BGRA", 4, 2, 1, 0}, {"ARGB", 4, 1, 2, 3}, {"ABGR", 4, 3, 2, 1},
    {"GRAY8", 1, 0, 0, 0}, {"I420", 0, 0, 0, 0}, {"NV12", 0, 0, 0, 0},
};
constexpr int kFormatCount = static_cast<int>(sizeof(kFormats) / sizeof(kFormats[0]));
static_assert(kFormatCount == static_cast<int>(PixelFormat::NV12) + 1, "kFormats must follow PixelFormat");

const FormatInfo& info(PixelFormat format) { return kFormats[static_cast<int>(format)]; }

bool is_yuv(PixelFormat format) { return format == PixelFormat::I420 || format == PixelFormat::NV12; }

int chroma_width(const FrameView& f) { return (f.width + 1) / 2; }
int chroma_height(const FrameView& f) { return (f.height + 1) / 2; }

void check_plane(const FrameView& f, int plane, const char* plane_name, int row_bytes) {
  const std::string where = std::string(info(f.format).name) + " " + std::to_string(f.width) + "x" +
                            std::to_string(f.height) + " frame, plane " + std::to_string(plane) + " (" +
                            plane_name + ")";
  if (f.planes[plane] == nullptr) throw std::invalid_argument(where + ": no data (null pointer)");
  if (f.strides[plane] < row_bytes)
    throw std::invalid_argument(where + ": stride " + std::to_string(f.strides[plane]) +
                                " is smaller than a row of " + std::to_string(row_bytes) + " bytes");
}

void check_frame(const FrameView& f) {
  const int index = static_cast<int>(f.format);
  if (index < 0 || index >= kFormatCount)
    throw std::invalid_argument("frame has an invalid pixel format value " + std::to_string(index));
  if (f.width <= 0 || f.height <= 0)
    throw std::invalid_argument(std::string(info(f.format).name) + " frame is empty (" + std::to_string(f.width) +
                                "x" + std::to_string(f.height) + ")");
  switch (f.format) {
    case PixelFormat::I420:
      check_plane(f, 0, "Y", f.width);
      check_plane(f, 1, "U", chroma_width(f));
      check_plane(f, 2, "V", chroma_width(f));
      break;
    case PixelFormat::NV12:
      check_plane(f, 0, "Y", f.width);
      check_plane(f, 1, "UV", 2 * chroma_width(f));
      break;
    default:
      check_plane(f, 0, "packed pixels", f.width * info(f.format).channels);
  }
}

// A plane as a Mat header over the caller's memory (no copy), honouring the stride.
cv::Mat wrap_plane(const FrameView& f, int plane, int width, int height, int type) {
  return cv::Mat(height, width, type, const_cast<uint8_t*>(f.planes[plane]), static_cast<size_t>(f.strides[plane]));
}

// Area averaging when shrinking (no aliasing), bilinear when growing. Returns
// `src` itself when the size already matches.
cv::Mat resized(const cv::Mat& src, cv::Size size) {
  if (src.size() == size) return src;
  const bool shrinking = size.width <= src.cols && size.height <= src.rows;
  cv::Mat in = src;
  // OpenCV's area resize is about ten times faster for whole-number ratios.
  // For a fractional one (1080 -> 64), exact 2x2 halvings first shrink the
  // image while it stays at least the target size: they cover the same area,
  // so the sampled region is unchanged; only 8-bit rounding between steps and
  // the weights of pixels cut by an output pixel's edge differ from one pass.
  const bool whole_ratio = in.cols % size.width == 0 && in.rows % size.height == 0;
  while (shrinking && !whole_ratio && in.cols % 2 == 0 && in.rows % 2 == 0 && in.cols / 2 >= size.width &&
         in.rows / 2 >= size.height) {
    cv::Mat half;
    cv::resize(in, half, cv::Size(in.cols / 2, in.rows / 2), 0, 0, cv::INTER_AREA);
    in = half;
  }
  if (in.size() == size) return in;
  cv::Mat out;
  cv::resize(in, out, size, 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

// Which frame pixels are sampled and where they land in the model input.
struct Placement {
  cv::Rect source;  // inside the frame
  cv::Rect target;  // inside the model input
};

// Derived from model::model_view alone, so what is sampled is exactly the
// rectangle the geometry reports: the view clipped to the frame (crop keeps
// all of it; letterbox clips the bars away), mapped into model pixels.
Placement place(int frame_width, int frame_height, int model_width, int model_height, model::Geometry geometry) {
  const model::ViewRect v = model::model_view(frame_width, frame_height, model_width, model_height, geometry);
  auto whole = [](double value) { return static_cast<int>(std::lround(value)); };
  const int x0 = std::max(0, whole(v.x)), x1 = std::min(frame_width, whole(v.x + v.width));
  const int y0 = std::max(0, whole(v.y)), y1 = std::min(frame_height, whole(v.y + v.height));
  const double sx = model_width / v.width, sy = model_height / v.height;
  const int tx0 = std::clamp(whole((x0 - v.x) * sx), 0, model_width - 1);
  const int tx1 = std::clamp(whole((x1 - v.x) * sx), tx0 + 1, model_width);
  const int ty0 = std::clamp(whole((y0 - v.y) * sy), 0, model_height - 1);
  const int ty1 = std::clamp(whole((y1 - v.y) * sy), ty0 + 1, model_height);
  return {cv::Rect(x0, y0, std::max(1, x1 - x0), std::max(1, y1 - y0)), cv::Rect(tx0, ty0, tx1 - tx0, ty1 - ty0)};
}

// Packed RGB-like and gray: resize at the source's channel count, then pick
// R, G, B (or replicate gray) into the output on the small image.
void convert_packed(const FrameView& f, const cv::Rect& source, cv::Mat target) {
  const FormatInfo& fi = info(f.format);
  const cv::Mat frame = wrap_plane(f, 0, f.width, f.height, CV_8UC(fi.channels));
  const cv::Mat small = resized(frame(source), target.size());
  const int from_to[] = {fi.r, 0, fi.g, 1, fi.b, 2};
  cv::mixChannels(&small, 1, &target, 1, from_to, 3);
}

// Y'CbCr -> R'G'B' for 8-bit samples. With Kr, Kb the luma weights of the
// matrix (Kg = 1 - Kr - Kb) and Cb, Cr centred on 0 and scaled to [-0.5, 0.5]:
//   R = Y + 2 (1 - Kr) Cr
//   G = Y - 2 Kb (1 - Kb) / Kg Cb - 2 Kr (1 - Kr) / Kg Cr
//   B = Y + 2 (1 - Kb) Cb
// (the inverse of ITU-R BT.601-7 / BT.709-6 section 3, "derivation of
// luminance and colour-difference signals"). Studio range first maps Y from
// 16..235 and C from 16..240 onto full scale.
struct YuvToRgb {
  float y_offset, y_scale, c_scale;
  float rv, gu, gv, bu;
};

YuvToRgb yuv_to_rgb(YuvMatrix matrix, bool full_range) {
  // Kr, Kb: BT.601 (Rec. ITU-R BT.601-7, 2.5.1) and BT.709 (Rec. ITU-R BT.709-6, 3.2).
  const double kr = matrix == YuvMatrix::Bt709 ? 0.2126 : 0.299;
  const double kb = matrix == YuvMatrix::Bt709 ? 0.0722 : 0.114;
  const double kg = 1.0 - kr - kb;
  YuvToRgb c;
  c.y_offset = full_range ? 0.0f : 16.0f;
  c.y_scale = full_range ? 1.0f : static_cast<float>(255.0 / 219.0);
  c.c_scale = full_range ? 1.0f : static_cast<float>(255.0 / 224.0);
  c.rv = static_cast<float>(2.0 * (1.0 - kr));
  c.gu = static_cast<float>(2.0 * kb * (1.0 - kb) / kg);
  c.gv = static_cast<float>(2.0 * kr * (1.0 - kr) / kg);
  c.bu = static_cast<float>(2.0 * (1.0 - kb));
  return c;
}

// Per pixel on the already resized planes: y, u, v (CV_8UC1) or y and an
// interleaved uv (CV_8UC2, v left empty).
void yuv_planes_to_rgb(const cv::Mat& y, const cv::Mat& u, const cv::Mat& v, const YuvToRgb& c, cv::Mat& target) {
  const bool interleaved = u.channels() == 2;
  for (int row = 0; row < target.rows; ++row) {
    const uint8_t* yp = y.ptr<uint8_t>(row);
    const uint8_t* up = u.ptr<uint8_t>(row);
    const uint8_t* vp = interleaved ? up + 1 : v.ptr<uint8_t>(row);
    const int cstep = interleaved ? 2 : 1;
    uint8_t* out = target.ptr<uint8_t>(row);
    for (int col = 0; col < target.cols; ++col) {
      const float luma = (yp[col] - c.y_offset) * c.y_scale;
      const float cb = (up[col * cstep] - 128.0f) * c.c_scale;
      const float cr = (vp[col * cstep] - 128.0f) * c.c_scale;
      out[3 * col + 0] = cv::saturate_cast<uint8_t>(luma + c.rv * cr);
      out[3 * col + 1] = cv::saturate_cast<uint8_t>(luma - c.gu * cb - c.gv * cr);
      out[3 * col + 2] = cv::saturate_cast<uint8_t>(luma + c.bu * cb);
    }
  }
}

// I420 / NV12: each plane is resized to the target on its own, then converted
// on the small image. The chroma crop is the luma crop halved, widened to
// whole chroma samples (exact when the crop starts and ends on even pixels).
void convert_yuv(const FrameView& f, const cv::Rect& source, cv::Mat target) {
  const int cw = chroma_width(f), ch = chroma_height(f);
  const int cx0 = source.x / 2, cy0 = source.y / 2;
  const int cx1 = std::min(cw, (source.x + source.width + 1) / 2);
  const int cy1 = std::min(ch, (source.y + source.height + 1) / 2);
  const cv::Rect chroma(cx0, cy0, std::max(1, cx1 - cx0), std::max(1, cy1 - cy0));

  const cv::Size size = target.size();
  const cv::Mat y = resized(wrap_plane(f, 0, f.width, f.height, CV_8UC1)(source), size);
  cv::Mat u, v;
  if (f.format == PixelFormat::NV12) {
    u = resized(wrap_plane(f, 1, cw, ch, CV_8UC2)(chroma), size);
  } else {
    u = resized(wrap_plane(f, 1, cw, ch, CV_8UC1)(chroma), size);
    v = resized(wrap_plane(f, 2, cw, ch, CV_8UC1)(chroma), size);
  }
  yuv_planes_to_rgb(y, u, v, yuv_to_rgb(f.matrix, f.full_range), target);
}

cv::Mat convert(const FrameView& f, cv::Size size, const Placement& p) {
  // Zeros are the letterbox bars; crop and squash overwrite every pixel.
  cv::Mat out = cv::Mat::zeros(size, CV_8UC3);
  if (is_yuv(f.format))
    convert_yuv(f, p.source, out(p.target));
  else
    convert_packed(f, p.source, out(p.target));
  return out;
}

}  // namespace

PixelFormat parse_pixel_format(const std::string& name) {
  for (int i = 0; i < kFormatCount; ++i)
    if (name == kFormats[i].name) return static_cast<PixelFormat>(i);
  std::string supported;
  for (const auto& n : pixel_format_names()) supported += (supported.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unsupported pixel format '" + name + "' (supported: " + supported + ")");
}

const char* to_string(PixelFormat format) {
  const int index = static_cast<int>(format);
  return index >= 0 && index < kFormatCount ? kFormats[index].name : "unknown";
}

const std::vector<std::string>& pixel_format_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const auto& f : kFormats) all.emplace_back(f.name);
    return all;
  }();
  return names;
}

cv::Mat frame_to_model_rgb(const FrameView& frame, int model_width, int model_height, model::Geometry geometry) {
  check_frame(frame);
  if (model_width <= 0 || model_height <= 0)
    throw std::invalid_argument("model input size must be positive, got " + std::to_string(model_width) + "x" +
                                std::to_string(model_height));
  return convert(frame, cv::Size(model_width, model_height),
                 place(frame.width, frame.height, model_width, model_height, geometry));
}

cv::Mat frame_to_rgb(const FrameView& frame) {
  check_frame(frame);
  const cv::Rect whole(0, 0, frame.width, frame.height);
  return convert(frame, whole.size(), {whole, whole});
}

}  // namespace ecotta::stream

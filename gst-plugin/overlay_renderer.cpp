// OverlayRenderer: panels through PangoCairo into cached sprites, composited
// and map-blended by hand (see overlay_renderer.h for why).
#include "overlay_renderer.h"

#include <cairo.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace ecotta::overlay {

namespace {

constexpr int kMargin = 8;       // panel distance from the frame edge
constexpr int kPad = 6;          // inside a panel
constexpr int kGap = 2;          // between lines
constexpr int kBarWidth = 110;   // a top-k bar at 100 %
constexpr int kSwatch = 12;      // legend colour square
constexpr int kSparkWidth = 150;
constexpr int kSparkHeight = 22;
constexpr int kMemBarHeight = 5;
constexpr unsigned kLegendRows = 8;
constexpr double kLegendMinShare = 0.005;
constexpr std::size_t kLayoutCacheMax = 512;

// Background of every panel, and the text on it.
constexpr double kPanelRgba[4] = {0.07, 0.07, 0.08, 0.70};

// (x * y) / 255 rounded, exact for x, y in 0..255.
inline unsigned div255(unsigned v) { return (v + 128 + ((v + 128) >> 8)) >> 8; }

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;

// A rendered panel: premultiplied ARGB32 plus the text it was rendered from.
struct Sprite {
  SurfacePtr surface;
  int width = 0;
  int height = 0;
  std::string key;

  // A cleared surface of this size (reused when the size is unchanged).
  cairo_t* begin(int w, int h) {
    w = std::max(w, 1);
    h = std::max(h, 1);
    if (!surface || w != width || h != height) {
      surface.reset(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h));
      if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
        surface.reset();
        width = height = 0;
        throw std::runtime_error("cairo could not allocate a " + std::to_string(w) + "x" + std::to_string(h) +
                                 " overlay surface");
      }
      width = w;
      height = h;
    }
    cairo_t* cr = cairo_create(surface.get());
    cairo_set_operator(cr, CAIRO_OPERATOR_CLEAR);
    cairo_paint(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
    return cr;
  }
  void end(cairo_t* cr) {
    cairo_destroy(cr);
    cairo_surface_flush(surface.get());
  }
};

// Composites `s` (premultiplied) over the frame at (x, y), clipped.
void blit(const FrameView& f, const Sprite& s, int x, int y) {
  if (!s.surface) return;
  const int x0 = std::max(x, 0), y0 = std::max(y, 0);
  const int x1 = std::min(x + s.width, f.width), y1 = std::min(y + s.height, f.height);
  if (x0 >= x1 || y0 >= y1) return;
  const unsigned char* src = cairo_image_surface_get_data(s.surface.get());
  const int src_stride = cairo_image_surface_get_stride(s.surface.get());
  const PixelLayout& L = f.layout;
  for (int row = y0; row < y1; ++row) {
    const auto* sp = reinterpret_cast<const uint32_t*>(src + static_cast<std::size_t>(row - y) * src_stride) + (x0 - x);
    uint8_t* dp = f.data + static_cast<std::size_t>(row) * f.stride + static_cast<std::size_t>(x0) * 4;
    for (int col = x0; col < x1; ++col, ++sp, dp += 4) {
      const uint32_t p = *sp;
      const unsigned sa = p >> 24;
      if (sa == 0) continue;
      const unsigned sr = (p >> 16) & 0xff, sg = (p >> 8) & 0xff, sb = p & 0xff;
      const unsigned inv = 255 - sa;
      const unsigned da = L.a >= 0 ? dp[L.a] : 255;
      if (da == 255) {
        dp[L.r] = static_cast<uint8_t>(sr + div255(dp[L.r] * inv));
        dp[L.g] = static_cast<uint8_t>(sg + div255(dp[L.g] * inv));
        dp[L.b] = static_cast<uint8_t>(sb + div255(dp[L.b] * inv));
      } else {
        // Translucent frame (straight alpha): OVER in premultiplied space, back to straight.
        const unsigned oa = sa + div255(da * inv);
        auto mix = [&](unsigned sc, uint8_t dc) {
          const unsigned pm = sc + div255(div255(dc * da) * inv);
          return static_cast<uint8_t>(std::min(255u, (pm * 255 + oa / 2) / oa));
        };
        dp[L.r] = mix(sr, dp[L.r]);
        dp[L.g] = mix(sg, dp[L.g]);
        dp[L.b] = mix(sb, dp[L.b]);
        dp[L.a] = static_cast<uint8_t>(oa);
      }
    }
  }
}

void rounded_rect(cairo_t* cr, double x, double y, double w, double h, double r) {
  r = std::min({r, w / 2, h / 2});
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -M_PI / 2, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, M_PI / 2);
  cairo_arc(cr, x + r, y + h - r, r, M_PI / 2, M_PI);
  cairo_arc(cr, x + r, y + r, r, M_PI, 3 * M_PI / 2);
  cairo_close_path(cr);
}

void panel_background(cairo_t* cr, int w, int h) {
  rounded_rect(cr, 0, 0, w, h, 5);
  cairo_set_source_rgba(cr, kPanelRgba[0], kPanelRgba[1], kPanelRgba[2], kPanelRgba[3]);
  cairo_fill(cr);
}

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", std::clamp(v, 0.0, 1.0) * 100.0);
  return buf;
}

std::string format_bytes(int64_t bytes) {
  char buf[48];
  const double b = static_cast<double>(std::max<int64_t>(bytes, 0));
  if (b < 1024)
    std::snprintf(buf, sizeof buf, "%.0f B", b);
  else if (b < 1024.0 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024);
  else if (b < 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024));
  else
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1024.0 * 1024 * 1024));
  return buf;
}

std::string class_name(const EcottaMeta& m, int id) {
  const gchar* label = ecotta_meta_class_label(&m, id);
  if (label && *label) return label;
  return "class " + std::to_string(id);
}

// Hand-picked, well separated colours for the first classes.
constexpr Rgb kPalette[] = {
    {0, 0, 0},       {230, 25, 75},   {60, 180, 75},   {255, 225, 25},  {0, 130, 200},
    {245, 130, 48},  {145, 30, 180},  {70, 240, 240},  {240, 50, 230},  {210, 245, 60},
    {250, 190, 212}, {0, 128, 128},   {220, 190, 255}, {170, 110, 40},  {255, 250, 200},
    {128, 0, 0},     {170, 255, 195}, {128, 128, 0},   {255, 215, 180}, {0, 0, 128},
};
constexpr unsigned kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

// The class map's frame geometry: which map cell each frame pixel shows.
struct MapGeometry {
  int frame_w = -1, frame_h = -1, vx = 0, vy = 0, vw = 0, vh = 0;
  unsigned mw = 0, mh = 0;
  int x0 = 0, x1 = 0, y0 = 0, y1 = 0;  // the view clipped to the frame
  std::vector<uint32_t> col;           // frame x - x0 -> map column
  std::vector<uint32_t> row;           // frame y - y0 -> map row offset

  bool matches(int fw, int fh, int x, int y, int w, int h, unsigned m_w, unsigned m_h) const {
    return fw == frame_w && fh == frame_h && x == vx && y == vy && w == vw && h == vh && m_w == mw && m_h == mh;
  }

  void build(int fw, int fh, int x, int y, int w, int h, unsigned m_w, unsigned m_h) {
    frame_w = fw, frame_h = fh, vx = x, vy = y, vw = w, vh = h, mw = m_w, mh = m_h;
    x0 = std::max(x, 0), y0 = std::max(y, 0);
    x1 = static_cast<int>(std::min<int64_t>(static_cast<int64_t>(x) + w, fw));
    y1 = static_cast<int>(std::min<int64_t>(static_cast<int64_t>(y) + h, fh));
    col.clear();
    row.clear();
    if (x0 >= x1 || y0 >= y1) return;
    // Nearest neighbour at pixel centres.
    for (int fx = x0; fx < x1; ++fx) {
      const int64_t c = ((2 * (static_cast<int64_t>(fx) - x) + 1) * m_w) / (2 * static_cast<int64_t>(w));
      col.push_back(static_cast<uint32_t>(std::clamp<int64_t>(c, 0, m_w - 1)));
    }
    for (int fy = y0; fy < y1; ++fy) {
      const int64_t r = ((2 * (static_cast<int64_t>(fy) - y) + 1) * m_h) / (2 * static_cast<int64_t>(h));
      row.push_back(static_cast<uint32_t>(std::clamp<int64_t>(r, 0, m_h - 1) * m_w));
    }
  }
};

}  // namespace

Rgb palette_colour(unsigned id) {
  if (id < kPaletteSize) return kPalette[id];
  // Beyond the table: the PASCAL VOC bit-interleaving scheme, distinct for every id.
  unsigned r = 0, g = 0, b = 0, c = id;
  for (int shift = 7; shift >= 0 && c; --shift, c >>= 3) {
    r |= ((c >> 0) & 1) << shift;
    g |= ((c >> 1) & 1) << shift;
    b |= ((c >> 2) & 1) << shift;
  }
  return {static_cast<uint8_t>(r), static_cast<uint8_t>(g), static_cast<uint8_t>(b)};
}

struct OverlayRenderer::Impl {
  OverlayOptions options;
  PangoFontMap* font_map = nullptr;
  PangoContext* context = nullptr;
  PangoFontDescription* body_font = nullptr;
  PangoFontDescription* title_font = nullptr;
  PangoFontDescription* small_font = nullptr;
  std::unordered_map<std::string, PangoLayout*> layouts;  // (font, text) -> laid-out text

  Sprite result_panel;  // classification box or segmentation legend
  Sprite adapt_panel;
  Sprite sparkline;
  MapGeometry geometry;
  unsigned map_alpha = 0;            // alpha as 0..255
  uint16_t blend_palette[256][3]{};  // palette colour * map_alpha (r, g, b)

  std::deque<float> entropy_history;
  bool have_frame = false;
  uint64_t last_frame = 0;

  Impl() {
    // Our own font map and context: pango's default map is per thread, and
    // GStreamer may stream from different threads over the element's life.
    font_map = pango_cairo_font_map_new();
    context = pango_font_map_create_context(font_map);
    pango_cairo_context_set_resolution(context, 96);
    cairo_font_options_t* fo = cairo_font_options_create();
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_ON);
    pango_cairo_context_set_font_options(context, fo);
    cairo_font_options_destroy(fo);
    apply_font();
    apply_alpha();
  }

  ~Impl() {
    clear_layouts();
    free_fonts();
    g_object_unref(context);
    g_object_unref(font_map);
  }

  void free_fonts() {
    for (auto** f : {&body_font, &title_font, &small_font}) {
      if (*f) pango_font_description_free(*f);
      *f = nullptr;
    }
  }

  void clear_layouts() {
    for (auto& kv : layouts) g_object_unref(kv.second);
    layouts.clear();
  }

  void apply_font() {
    clear_layouts();
    free_fonts();
    body_font = pango_font_description_from_string(options.font_desc.c_str());
    if (pango_font_description_get_size(body_font) <= 0) pango_font_description_set_size(body_font, 12 * PANGO_SCALE);
    auto scaled = [&](double factor) {
      PangoFontDescription* d = pango_font_description_copy(body_font);
      const int size = static_cast<int>(pango_font_description_get_size(body_font) * factor);
      if (pango_font_description_get_size_is_absolute(body_font))
        pango_font_description_set_absolute_size(d, size);
      else
        pango_font_description_set_size(d, size);
      return d;
    };
    title_font = scaled(1.3);
    small_font = scaled(0.8);
    result_panel.key.clear();
    adapt_panel.key.clear();
  }

  void apply_alpha() {
    map_alpha = static_cast<unsigned>(std::lround(std::clamp(options.alpha, 0.0, 1.0) * 255));
    for (unsigned c = 0; c < 256; ++c) {
      const Rgb p = palette_colour(c);
      blend_palette[c][0] = static_cast<uint16_t>(p.r * map_alpha);
      blend_palette[c][1] = static_cast<uint16_t>(p.g * map_alpha);
      blend_palette[c][2] = static_cast<uint16_t>(p.b * map_alpha);
    }
  }

  // The laid-out text, from the cache when it was seen before.
  PangoLayout* layout(const std::string& text, const PangoFontDescription* font) {
    const char tag = font == title_font ? 't' : font == small_font ? 's' : 'b';
    std::string key = std::string(1, tag) + text;
    auto it = layouts.find(key);
    if (it != layouts.end()) return it->second;
    PangoLayout* l = pango_layout_new(context);
    pango_layout_set_font_description(l, font);
    pango_layout_set_text(l, text.c_str(), -1);
    layouts.emplace(std::move(key), l);
    return l;
  }

  static std::pair<int, int> size_of(PangoLayout* l) {
    int w = 0, h = 0;
    pango_layout_get_pixel_size(l, &w, &h);
    return {w, h};
  }

  static void show(cairo_t* cr, PangoLayout* l, double x, double y, double r, double g, double b) {
    cairo_set_source_rgb(cr, r, g, b);
    cairo_move_to(cr, x, y);
    pango_cairo_show_layout(cr, l);
  }

  // Title line shared by both result panels: "label  87%" and a reused tag.
  struct Title {
    PangoLayout* text;
    PangoLayout* tag;  // nullptr unless reused
    int width, height;
  };
  Title title(const EcottaMeta& m) {
    Title t{layout(class_name(m, m.class_id) + "  " + percent(m.confidence), title_font),
            m.reused ? layout("reused", small_font) : nullptr, 0, 0};
    auto [w, h] = size_of(t.text);
    t.width = w, t.height = h;
    if (t.tag) t.width += 6 + size_of(t.tag).first + 8;
    return t;
  }
  void draw_title(cairo_t* cr, const Title& t, int x, int y) {
    show(cr, t.text, x, y, 1, 1, 1);
    if (!t.tag) return;
    auto [tw, th] = size_of(t.tag);
    const int tx = x + size_of(t.text).first + 6, ty = y + (t.height - th) / 2;
    rounded_rect(cr, tx, ty - 1, tw + 8, th + 2, 3);
    cairo_set_source_rgb(cr, 1.0, 0.72, 0.1);
    cairo_fill(cr);
    show(cr, t.tag, tx + 4, ty, 0.1, 0.1, 0.1);
  }

  void render_classification(const EcottaMeta& m) {
    const unsigned k = std::min({options.top_k, m.n_top, static_cast<unsigned>(ECOTTA_META_MAX_TOP)});
    std::vector<std::string> names, scores;
    std::vector<int> bars;
    std::string key = "C" + std::to_string(m.class_id) + (m.label ? m.label : "") + percent(m.confidence) +
                      (m.reused ? "R" : "");
    for (unsigned i = 0; i < k; ++i) {
      names.push_back(class_name(m, m.top[i].class_id));
      scores.push_back(percent(m.top[i].score));
      bars.push_back(static_cast<int>(std::lround(std::clamp(m.top[i].score, 0.0f, 1.0f) * kBarWidth)));
      key += "|" + names.back() + "|" + scores.back() + "|" + std::to_string(bars.back());
    }
    if (key == result_panel.key) return;

    const Title t = title(m);
    int name_w = 0, score_w = 0, row_h = 0;
    for (unsigned i = 0; i < k; ++i) {
      auto [nw, nh] = size_of(layout(names[i], body_font));
      auto [sw, sh] = size_of(layout(scores[i], body_font));
      name_w = std::max(name_w, nw), score_w = std::max(score_w, sw), row_h = std::max({row_h, nh, sh});
    }
    const int rows_w = k ? name_w + 6 + kBarWidth + 6 + score_w : 0;
    const int w = 2 * kPad + std::max(t.width, rows_w);
    const int h = 2 * kPad + t.height + static_cast<int>(k) * (row_h + kGap) + (k ? 4 : 0);
    cairo_t* cr = result_panel.begin(w, h);
    panel_background(cr, w, h);
    draw_title(cr, t, kPad, kPad);
    int y = kPad + t.height + 4;
    for (unsigned i = 0; i < k; ++i, y += row_h + kGap) {
      show(cr, layout(names[i], body_font), kPad, y, 0.9, 0.9, 0.9);
      const int bx = kPad + name_w + 6;
      cairo_rectangle(cr, bx, y + 3, kBarWidth, row_h - 6);
      cairo_set_source_rgba(cr, 1, 1, 1, 0.12);
      cairo_fill(cr);
      cairo_rectangle(cr, bx, y + 3, bars[i], row_h - 6);
      if (i == 0)
        cairo_set_source_rgb(cr, 0.25, 0.78, 0.38);
      else
        cairo_set_source_rgb(cr, 0.35, 0.55, 0.88);
      cairo_fill(cr);
      show(cr, layout(scores[i], body_font), bx + kBarWidth + 6, y, 0.9, 0.9, 0.9);
    }
    result_panel.end(cr);
    result_panel.key = std::move(key);
  }

  void render_legend(const EcottaMeta& m) {
    // Shares from the meta, or counted from the map when a producer left them out.
    std::vector<float> share(m.n_classes, 0.0f);
    if (m.class_share) {
      std::copy(m.class_share, m.class_share + m.n_classes, share.begin());
    } else if (m.class_map && m.n_classes) {
      const std::size_t n = static_cast<std::size_t>(m.map_width) * m.map_height;
      for (std::size_t i = 0; i < n; ++i)
        if (m.class_map[i] < m.n_classes) share[m.class_map[i]] += 1.0f;
      for (float& s : share) s /= static_cast<float>(n);
    }
    std::vector<unsigned> present;
    for (unsigned c = 0; c < share.size(); ++c)
      if (share[c] >= kLegendMinShare) present.push_back(c);
    std::stable_sort(present.begin(), present.end(), [&](unsigned a, unsigned b) { return share[a] > share[b]; });
    const unsigned more = present.size() > kLegendRows ? static_cast<unsigned>(present.size()) - kLegendRows : 0;
    present.resize(std::min<std::size_t>(present.size(), kLegendRows));

    std::vector<std::string> rows;
    std::string key = "S" + std::to_string(m.class_id) + (m.label ? m.label : "") + percent(m.confidence) +
                      (m.reused ? "R" : "") + "+" + std::to_string(more);
    for (unsigned c : present) {
      rows.push_back(class_name(m, static_cast<int>(c)) + "  " + percent(share[c]));
      key += "|" + std::to_string(c) + ":" + rows.back();
    }
    if (more) rows.push_back("+" + std::to_string(more) + " more");
    if (key == result_panel.key) return;

    const Title t = title(m);
    int rows_w = 0, row_h = kSwatch;
    for (const auto& r : rows) {
      auto [rw, rh] = size_of(layout(r, body_font));
      rows_w = std::max(rows_w, kSwatch + 6 + rw), row_h = std::max(row_h, rh);
    }
    const int w = 2 * kPad + std::max(t.width, rows_w);
    const int h = 2 * kPad + t.height + static_cast<int>(rows.size()) * (row_h + kGap) + (rows.empty() ? 0 : 4);
    cairo_t* cr = result_panel.begin(w, h);
    panel_background(cr, w, h);
    draw_title(cr, t, kPad, kPad);
    int y = kPad + t.height + 4;
    for (std::size_t i = 0; i < rows.size(); ++i, y += row_h + kGap) {
      if (i < present.size()) {
        const Rgb p = palette_colour(present[i]);
        cairo_rectangle(cr, kPad + 0.5, y + (row_h - kSwatch) / 2 + 0.5, kSwatch - 1, kSwatch - 1);
        cairo_set_source_rgb(cr, p.r / 255.0, p.g / 255.0, p.b / 255.0);
        cairo_fill_preserve(cr);
        cairo_set_source_rgba(cr, 1, 1, 1, 0.6);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
      }
      show(cr, layout(rows[i], body_font), kPad + kSwatch + 6, y, 0.9, 0.9, 0.9);
    }
    result_panel.end(cr);
    result_panel.key = std::move(key);
  }

  // The panel's text and memory bar; the sparkline goes into the hole left
  // at (spark_x, spark_y), redrawn every frame.
  int spark_x = 0, spark_y = 0;
  void render_adaptation(const EcottaMeta& m) {
    char buf[96];
    const std::string method = m.method && *m.method ? m.method : "unknown method";
    const std::string l1 = method + (m.adapting ? "  \u25CF adapting" : "  \u25CB not adapting");
    std::snprintf(buf, sizeof buf, "steps %llu  \u00B7  snapshot %llu", static_cast<unsigned long long>(m.adapt_steps),
                  static_cast<unsigned long long>(m.snapshot));
    const std::string l2 = buf;
    const float oldest = entropy_history.empty() ? m.mean_entropy : entropy_history.front();
    const float delta = m.mean_entropy - oldest;
    const char* arrow = delta > 0.02f ? " \u2191" : delta < -0.02f ? " \u2193" : " \u2192";
    std::snprintf(buf, sizeof buf, "mean entropy %.2f%s", static_cast<double>(m.mean_entropy), arrow);
    const std::string l3 = buf;
    const std::string l4 = "memory " + format_bytes(m.peak_adapt_bytes) +
                           (m.memory_cap > 0 ? " / " + format_bytes(m.memory_cap) + " cap" : "  \u00B7  no cap");
    const double fill = m.memory_cap > 0 ? static_cast<double>(m.peak_adapt_bytes) / m.memory_cap : 0.0;
    const int fill_px = static_cast<int>(std::lround(std::min(fill, 1.0) * kSparkWidth));
    const std::string key = l1 + "|" + l2 + "|" + l3 + "|" + l4 + "|" + std::to_string(fill_px) + (fill > 1 ? "!" : "");
    if (key == adapt_panel.key) return;

    PangoLayout* lines[4] = {layout(l1, body_font), layout(l2, small_font), layout(l3, small_font),
                             layout(l4, small_font)};
    int w = kSparkWidth, hs[4];
    for (int i = 0; i < 4; ++i) {
      auto [lw, lh] = size_of(lines[i]);
      w = std::max(w, lw), hs[i] = lh;
    }
    const bool bar = m.memory_cap > 0;
    const int h = hs[0] + hs[1] + hs[2] + kSparkHeight + hs[3] + 5 * kGap + (bar ? kMemBarHeight + kGap : 0);
    w += 2 * kPad;
    cairo_t* cr = adapt_panel.begin(w, h + 2 * kPad);
    panel_background(cr, w, h + 2 * kPad);
    int y = kPad;
    show(cr, lines[0], kPad, y, m.adapting ? 0.45 : 0.75, m.adapting ? 0.95 : 0.75, m.adapting ? 0.55 : 0.75);
    y += hs[0] + kGap;
    show(cr, lines[1], kPad, y, 0.9, 0.9, 0.9);
    y += hs[1] + kGap;
    show(cr, lines[2], kPad, y, 0.9, 0.9, 0.9);
    y += hs[2] + kGap;
    spark_x = kPad, spark_y = y;
    cairo_rectangle(cr, kPad, y, kSparkWidth, kSparkHeight);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.08);
    cairo_fill(cr);
    y += kSparkHeight + kGap;
    show(cr, lines[3], kPad, y, 0.9, 0.9, 0.9);
    y += hs[3] + kGap;
    if (bar) {
      cairo_rectangle(cr, kPad, y, kSparkWidth, kMemBarHeight);
      cairo_set_source_rgba(cr, 1, 1, 1, 0.15);
      cairo_fill(cr);
      cairo_rectangle(cr, kPad, y, fill_px, kMemBarHeight);
      if (fill > 1)
        cairo_set_source_rgb(cr, 0.95, 0.3, 0.25);
      else
        cairo_set_source_rgb(cr, 0.35, 0.7, 0.95);
      cairo_fill(cr);
    }
    adapt_panel.end(cr);
    adapt_panel.key = key;
  }

  void render_sparkline() {
    cairo_t* cr = sparkline.begin(kSparkWidth, kSparkHeight);
    if (entropy_history.size() >= 2) {
      auto [lo_it, hi_it] = std::minmax_element(entropy_history.begin(), entropy_history.end());
      // At least 0.1 of the 0..1 entropy range, so noise does not look like a trend.
      double lo = *lo_it, hi = *hi_it;
      if (hi - lo < 0.1) {
        const double mid = (hi + lo) / 2;
        lo = mid - 0.05, hi = mid + 0.05;
      }
      const double step = static_cast<double>(kSparkWidth - 2) / (kTrendFrames - 1);
      const double x0 = kSparkWidth - 1 - step * static_cast<double>(entropy_history.size() - 1);
      for (std::size_t i = 0; i < entropy_history.size(); ++i) {
        const double yv = 2 + (kSparkHeight - 4) * (1.0 - (entropy_history[i] - lo) / (hi - lo));
        if (i == 0)
          cairo_move_to(cr, x0 + step * i, yv);
        else
          cairo_line_to(cr, x0 + step * i, yv);
      }
      cairo_set_source_rgb(cr, 1.0, 0.8, 0.3);
      cairo_set_line_width(cr, 1.5);
      cairo_stroke(cr);
    }
    sparkline.end(cr);
  }

  void blend_map(const FrameView& f, const EcottaMeta& m) {
    if (!m.class_map || m.map_width == 0 || m.map_height == 0 || map_alpha == 0) return;
    // No view from the producer: the map covers the whole frame.
    int vx = m.view_x, vy = m.view_y, vw = m.view_width, vh = m.view_height;
    if (vw <= 0 || vh <= 0) vx = 0, vy = 0, vw = f.width, vh = f.height;
    if (!geometry.matches(f.width, f.height, vx, vy, vw, vh, m.map_width, m.map_height))
      geometry.build(f.width, f.height, vx, vy, vw, vh, m.map_width, m.map_height);
    if (geometry.col.empty() || geometry.row.empty()) return;
    const unsigned inv = 255 - map_alpha;
    const PixelLayout& L = f.layout;
    const uint32_t* cols = geometry.col.data();
    const std::size_t n_cols = geometry.col.size();
    for (int y = geometry.y0; y < geometry.y1; ++y) {
      const uint8_t* cells = m.class_map + geometry.row[y - geometry.y0];
      uint8_t* dp = f.data + static_cast<std::size_t>(y) * f.stride + static_cast<std::size_t>(geometry.x0) * 4;
      for (std::size_t i = 0; i < n_cols; ++i, dp += 4) {
        const uint16_t* pal = blend_palette[cells[cols[i]]];
        dp[L.r] = static_cast<uint8_t>(div255(dp[L.r] * inv + pal[0]));
        dp[L.g] = static_cast<uint8_t>(div255(dp[L.g] * inv + pal[1]));
        dp[L.b] = static_cast<uint8_t>(div255(dp[L.b] * inv + pal[2]));
      }
    }
  }

  void record_entropy(const EcottaMeta& m) {
    // A frame index going back is a new stream (or a seek): a new trend.
    if (have_frame && m.frame < last_frame) entropy_history.clear();
    have_frame = true;
    last_frame = m.frame;
  }
};

namespace {
// Pango's thread safety across font maps is not promised (GStreamer's
// textoverlay serializes all its instances with one class lock for that
// reason): two ecottaoverlay elements on the two branches of a tee run on
// two streaming threads. Every pango and cairo call of every renderer
// holds this lock; a frame's drawing takes about a millisecond.
std::mutex& pango_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

OverlayRenderer::OverlayRenderer() {
  const std::lock_guard<std::mutex> lock(pango_mutex());
  impl_ = std::make_unique<Impl>();
}

OverlayRenderer::~OverlayRenderer() {
  const std::lock_guard<std::mutex> lock(pango_mutex());
  impl_.reset();
}

void OverlayRenderer::set_options(const OverlayOptions& options) {
  const std::lock_guard<std::mutex> lock(pango_mutex());
  if (options == impl_->options) return;
  const bool font_changed = options.font_desc != impl_->options.font_desc;
  const bool alpha_changed = options.alpha != impl_->options.alpha;
  impl_->options = options;
  if (font_changed) impl_->apply_font();
  if (alpha_changed) impl_->apply_alpha();
  impl_->result_panel.key.clear();  // top-k count may have changed
}

void OverlayRenderer::reset() {
  impl_->entropy_history.clear();
  impl_->have_frame = false;
}

void OverlayRenderer::draw(const FrameView& frame, const EcottaMeta& meta) {
  if (!frame.data || frame.width <= 0 || frame.height <= 0) return;
  const std::lock_guard<std::mutex> lock(pango_mutex());
  Impl& d = *impl_;
  // Changing numbers fill the layout cache: empty it between frames, never
  // while this frame's drawing holds layouts from it (emptying it inside
  // layout() freed layouts still in use: an abort in pango after a minute
  // of adaptation).
  if (d.layouts.size() >= kLayoutCacheMax) d.clear_layouts();
  d.record_entropy(meta);

  if (meta.task == ECOTTA_TASK_SEGMENT) {
    d.blend_map(frame, meta);
    d.render_legend(meta);
  } else {
    d.render_classification(meta);
  }
  blit(frame, d.result_panel, kMargin, kMargin);

  // The panel's trend arrow compares with the history before this frame joins it.
  if (d.options.show_adaptation) d.render_adaptation(meta);
  d.entropy_history.push_back(meta.mean_entropy);
  if (d.entropy_history.size() > kTrendFrames) d.entropy_history.pop_front();
  if (d.options.show_adaptation) {
    d.render_sparkline();
    // Top-right; on a frame too narrow for both panels side by side,
    // bottom-right (as far from the result panel as the frame allows).
    const int px = frame.width - d.adapt_panel.width - kMargin;
    const int below = frame.height - d.adapt_panel.height - kMargin;
    const int py = px < 2 * kMargin + d.result_panel.width && below > kMargin ? below : kMargin;
    blit(frame, d.adapt_panel, px, py);
    blit(frame, d.sparkline, px + d.spark_x, py + d.spark_y);
  }
}

}  // namespace ecotta::overlay

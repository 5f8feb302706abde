// The GMNet predictor: preprocessing as the published weights were trained, the network,
// and the mapping of its normalised output to log2 gains.
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "regain/gmnet.h"

namespace regain::gmnet {

ImageF to_float(const Image8& sdr) {
  ImageF f(sdr.width(), sdr.height(), sdr.channels());
  const uint8_t* s = sdr.data();
  float* d = f.data();
  for (size_t i = 0; i < f.size(); ++i) d[i] = s[i] * (1.f / 255.f);
  return f;
}

ImageF resize_bicubic(const ImageF& src, int width, int height) {
  ImageF dst(width, height, src.channels());
  const cv::Mat s(src.height(), src.width(), CV_32FC(src.channels()), const_cast<float*>(src.data()));
  cv::Mat d(height, width, CV_32FC(src.channels()), dst.data());
  cv::resize(s, d, cv::Size(width, height), 0, 0, cv::INTER_CUBIC);
  for (auto& v : dst.span()) v = std::clamp(v, 0.f, 1.f);
  return dst;
}

namespace {

class GmnetPredictor final : public Predictor {
 public:
  GmnetPredictor(std::shared_ptr<Engine> e, const ModelOptions& o) : engine_(std::move(e)), opt_(o) {}
  std::string name() const override { return std::string("gmnet-") + precision_name(engine_->precision()); }

  Result<Prediction> predict(const Image8& sdr, const PredictOptions& po) const override {
    if (sdr.channels() != 3 || sdr.empty()) return fail(ErrorCode::InvalidInput, "predictor: SDR must be RGB");
    if (po.boost && !(*po.boost > 0 && *po.boost <= 8)) return fail(ErrorCode::InvalidInput, "boost must be in (0, 8] stops");
    const int s = opt_.scale;
    if (s < 1 || s > 16) return fail(ErrorCode::InvalidInput, "model scale must be 1..16");
    ImageF f = to_float(sdr);
    // OpenCV's own rounding of W/scale (the reference resizes with fx = fy = 1/scale).
    const int mw = std::max(1, cvRound(sdr.width() / double(s))), mh = std::max(1, cvRound(sdr.height() / double(s)));
    ImageF input = s == 1 ? std::move(f) : resize_bicubic(f, mw, mh);
    ImageF thumb = resize_bicubic(s == 1 ? input : to_float(sdr), 256, 256);
    std::unique_lock lock(mutex_);  // one engine, its buffers reused: batch jobs take turns
    REGAIN_TRY(raw, engine_->run(input, thumb, opt_.run));
    lock.unlock();
    Prediction p;
    p.boost = po.boost ? *po.boost : std::log2(opt_.peak);
    p.boost_reason = po.boost ? "given (headroom of a full-scale map)" : "model peak " + std::to_string(opt_.peak).substr(0, 4);
    p.log2_gain = std::move(raw.out);
    const float q = raw.qmax, b = float(p.boost);
    for (auto& v : p.log2_gain.span()) v = std::clamp(q * v, 0.f, 1.f) * b;
    return p;
  }

 private:
  std::shared_ptr<Engine> engine_;
  ModelOptions opt_;
  mutable std::mutex mutex_;
};

}  // namespace

std::unique_ptr<Predictor> make_predictor(std::shared_ptr<Engine> engine, const ModelOptions& opt) {
  return std::make_unique<GmnetPredictor>(std::move(engine), opt);
}

}  // namespace regain::gmnet

// The streaming step at inference: one call runs every layer of one time step for a few
// streams (batch N, typically 1) on weights held transposed and contiguous, with the state
// kept inside. Per layer: gi = LN_ih(W_ih x) + b_ih and gh = LN_hh(W_hh h) + b_hh as
// register-blocked mat-vecs, then the gate math (LN_c, zoneout's inference mix
// h = h~ + p (h_prev - h~)), all in float32. Included by kernels.cpp.

#pragma once

#include <algorithm>

namespace {

constexpr int64_t kBlock = 64;  // output columns kept in registers per pass

// y[0:G] = b + x[0:K] @ Wt[0:K, 0:G]   (Wt row-major (K, G))
inline void matvec(const float* __restrict x, const float* __restrict wt, const float* __restrict b,
                   float* __restrict y, int64_t K, int64_t G) {
  for (int64_t j0 = 0; j0 < G; j0 += kBlock) {
    const int64_t w = std::min(kBlock, G - j0);
    float acc[kBlock];
    if (w == kBlock) {
#pragma omp simd
      for (int64_t j = 0; j < kBlock; ++j) acc[j] = b ? b[j0 + j] : 0.f;
      for (int64_t k = 0; k < K; ++k) {
        const float xk = x[k];
        const float* row = wt + k * G + j0;
#pragma omp simd
        for (int64_t j = 0; j < kBlock; ++j) acc[j] += xk * row[j];
      }
#pragma omp simd
      for (int64_t j = 0; j < kBlock; ++j) y[j0 + j] = acc[j];
    } else {
      for (int64_t j = 0; j < w; ++j) acc[j] = b ? b[j0 + j] : 0.f;
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < w; ++j) acc[j] += x[k] * wt[k * G + j0 + j];
      for (int64_t j = 0; j < w; ++j) y[j0 + j] = acc[j];
    }
  }
}

// y = LN(y) * gamma + beta in place (beta may be null).
inline void ln_inplace(float* y, const float* gamma, const float* beta, int64_t n) {
  float mean = 0, var = 0;
#pragma omp simd reduction(+ : mean)
  for (int64_t j = 0; j < n; ++j) mean += y[j];
  mean /= n;
#pragma omp simd reduction(+ : var)
  for (int64_t j = 0; j < n; ++j) var += (y[j] - mean) * (y[j] - mean);
  const float rstd = 1.f / std::sqrt(var / n + float(kEps));
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) y[j] = (y[j] - mean) * rstd * gamma[j] + (beta ? beta[j] : 0.f);
}

struct StreamLayer {
  Tensor wih_t, whh_t;              // (K, G), (H, G) contiguous
  Tensor b_ih, b_hh, ln_ih, ln_hh;  // (G,) or undefined
  Tensor lnc_w, lnc_b;              // (H,) or undefined
};

inline const float* fptr(const Tensor& t) { return t.defined() ? t.data_ptr<float>() : nullptr; }

class Streamer {
 public:
  Streamer(std::string mode, std::vector<std::vector<optional<Tensor>>> layers, int64_t hidden, double zoneout,
           int64_t batch)
      : lstm_(mode == "LSTM"), H_(hidden), N_(batch), zp_(float(zoneout)) {
    TORCH_CHECK(mode == "LSTM" || mode == "GRU", "Streamer: mode must be LSTM or GRU, got ", mode);
    for (auto& p : layers) {  // w_ih, w_hh, b_ih, b_hh, ln_ih, ln_hh, lnc_w, lnc_b (undefined = off)
      TORCH_CHECK(p.size() == 8, "Streamer: 8 tensors per layer");
      auto prep = [](const optional<Tensor>& t) {
        return t.has_value() && t->defined() ? t->detach().to(at::kFloat).contiguous() : Tensor();
      };
      layers_.push_back({prep(p[0]).t().contiguous(), prep(p[1]).t().contiguous(), prep(p[2]),
                         prep(p[3]), prep(p[4]), prep(p[5]), prep(p[6]), prep(p[7])});
    }
    G_ = layers_[0].whh_t.size(1);
    in_ = layers_[0].wih_t.size(0);
    auto opts = at::TensorOptions().dtype(at::kFloat);
    h_ = at::zeros({(int64_t)layers_.size(), N_, H_}, opts);
    c_ = at::zeros({(int64_t)layers_.size(), N_, H_}, opts);
    gi_ = at::empty({G_}, opts);
    gh_ = at::empty({G_}, opts);
    x_ = at::empty({N_, H_}, opts);
  }

  // One step of every layer: x (N, H_in) or (H_in,) float32 -> y (N, H), state updated.
  Tensor step(const Tensor& x_in) {
    TORCH_CHECK(x_in.scalar_type() == at::kFloat && x_in.numel() == N_ * in_,
                "Stepper: x_t must be float32 with ", N_ * in_, " elements (batch ", N_,
                " x input_size ", in_, "), got ", x_in.sizes(), " ", x_in.scalar_type());
    Tensor x = x_in.is_contiguous() ? x_in : x_in.contiguous();
    const float* in = x.data_ptr<float>();
    int64_t K = in_;
    Tensor y = at::empty({N_, H_}, h_.options());
    for (size_t k = 0; k < layers_.size(); ++k) {
      const StreamLayer& w = layers_[k];
      float* hk = h_.data_ptr<float>() + k * N_ * H_;
      float* ck = c_.data_ptr<float>() + k * N_ * H_;
      float* out = k + 1 == layers_.size() ? y.data_ptr<float>() : x_.data_ptr<float>();
      for (int64_t n = 0; n < N_; ++n) {
        layer_row(w, in + n * K, K, hk + n * H_, ck + n * H_, out + n * H_);
      }
      in = x_.data_ptr<float>();
      K = H_;
    }
    return y;
  }

  Tensor h() const { return h_; }
  Tensor c() const { return c_; }
  void set_state(const Tensor& h, const optional<Tensor>& c) {
    h_.copy_(h);
    if (c.has_value()) c_.copy_(*c);
  }

 private:
  void layer_row(const StreamLayer& w, const float* x, int64_t K, float* h, float* c, float* out) {
    float *gi = gi_.data_ptr<float>(), *gh = gh_.data_ptr<float>();
    const bool ln = w.ln_ih.defined();
    matvec(x, w.wih_t.data_ptr<float>(), ln ? nullptr : fptr(w.b_ih), gi, K, G_);
    matvec(h, w.whh_t.data_ptr<float>(), ln ? nullptr : fptr(w.b_hh), gh, H_, G_);
    if (ln) {
      ln_inplace(gi, fptr(w.ln_ih), fptr(w.b_ih), G_);
      ln_inplace(gh, fptr(w.ln_hh), fptr(w.b_hh), G_);
    }
    const int64_t H = H_;
    const float zp = zp_;
    if (lstm_) {
#pragma omp simd
      for (int64_t j = 0; j < G_; ++j) gi[j] += gh[j];
      float* ct = gh;  // reuse: c~ in gh[0:H]
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        const float i = sigm(gi[j]), f = sigm(gi[H + j]), g = std::tanh(gi[2 * H + j]);
        ct[j] = f * c[j] + i * g;
      }
      float* co = gh + H;  // c_out in gh[H:2H]
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) co[j] = ct[j];
      if (w.lnc_w.defined()) ln_inplace(co, fptr(w.lnc_w), fptr(w.lnc_b), H);
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        const float hn = sigm(gi[3 * H + j]) * std::tanh(co[j]);
        const float hz = hn + zp * (h[j] - hn);
        c[j] = ct[j] + zp * (c[j] - ct[j]);
        h[j] = hz;
        out[j] = hz;
      }
    } else {
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        const float r = sigm(gi[j] + gh[j]), z = sigm(gi[H + j] + gh[H + j]);
        const float nn = std::tanh(gi[2 * H + j] + r * gh[2 * H + j]);
        const float hn = nn + z * (h[j] - nn);
        const float hz = hn + zp * (h[j] - hn);
        h[j] = hz;
        out[j] = hz;
      }
    }
  }

  bool lstm_;
  int64_t H_, N_, G_ = 0, in_ = 0;
  float zp_;
  std::vector<StreamLayer> layers_;
  Tensor h_, c_, gi_, gh_, x_;
};

void bind_stream(pybind11::module& m) {
  pybind11::class_<Streamer>(m, "Streamer")
      .def(pybind11::init<std::string, std::vector<std::vector<optional<Tensor>>>, int64_t, double, int64_t>())
      .def("step", &Streamer::step)
      .def("__call__", &Streamer::step)
      .def_property_readonly("h", &Streamer::h)
      .def_property_readonly("c", &Streamer::c)
      .def("set_state", &Streamer::set_state);
}

}  // namespace

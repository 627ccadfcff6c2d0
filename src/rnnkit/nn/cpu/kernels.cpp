// rnnkit's CPU kernels: the LSTM/GRU recurrence with layer norm, recurrent dropout and
// zoneout, forward and hand-written BPTT, and a batch-1 streaming step.
//
// The math is rnnkit.nn.functional's (the plain loop in rnnkit.nn.reference defines it;
// tests/nn/test_cpu_fast.py checks these kernels against it, outputs and gradients).
// Math names inside: N batch, H hidden, G = 4H (LSTM, gates i f g o) or 3H (GRU, r z n),
// gi input gates (L, N, G) already LN_ih'd and biased, a = h_in W_hh^T (N, G),
// ah = (a - mean) * rstd (its layer norm before the gain), zone modes 0 off,
// 1 a 0/1 mask per step (L, N, H), 2 the constant p (inference).
//
// One matrix product per step (at::mm, MKL) for the recurrence; the pointwise gate math of
// a step is one pass per row, vectorised through glibc's libmvec (-ffast-math, omp simd).
// Weight gradients are one GEMM over all steps at the end; gain/shift gradients are sums
// over saved tensors.

#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <cmath>
#include <mutex>
#include <vector>

using at::Tensor;
using c10::optional;

namespace {

constexpr double kEps = 1e-5;

template <typename T> inline T sigm(T x) { return T(1) / (T(1) + std::exp(-x)); }

// Layer norm of one row without the gain: writes xhat, returns rstd.
template <typename T>
inline T ln_row(const T* x, T* xhat, int64_t n) {
  T mean = 0, var = 0;
#pragma omp simd reduction(+ : mean)
  for (int64_t j = 0; j < n; ++j) mean += x[j];
  mean /= n;
#pragma omp simd reduction(+ : var)
  for (int64_t j = 0; j < n; ++j) var += (x[j] - mean) * (x[j] - mean);
  T rstd = T(1) / std::sqrt(var / n + T(kEps));
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) xhat[j] = (x[j] - mean) * rstd;
  return rstd;
}

// Backward of y = xhat * gamma through the normalisation; dy is overwritten with dx.
template <typename T>
inline void ln_row_backward(T* dy, const T* xhat, const T* gamma, T rstd, int64_t n) {
  T m1 = 0, m2 = 0;
#pragma omp simd reduction(+ : m1, m2)
  for (int64_t j = 0; j < n; ++j) {
    T d = dy[j] * gamma[j];
    m1 += d;
    m2 += d * xhat[j];
  }
  m1 /= n;
  m2 /= n;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) dy[j] = rstd * (dy[j] * gamma[j] - m1 - xhat[j] * m2);
}

// The recurrent gates' share of one row's backward, the same for LSTM and GRU: the bias and
// LN-gain sums (S[0:G] += dg, S[G:2G] += dg * xhat) and, with LN_hh, the grad of
// a = h_in W_hh^T through the norm (written to da; without LN, da aliases dg's tensor).
template <typename T>
inline void recurrent_gates_backward(const T* dg, const T* ah, const T* gw, T rstd, T* S, T* da,
                                     int64_t G, bool ln) {
#pragma omp simd
  for (int64_t j = 0; j < G; ++j) S[j] += dg[j];
  if (!ln) return;
#pragma omp simd
  for (int64_t j = 0; j < G; ++j) S[G + j] += dg[j] * ah[j];
#pragma omp simd
  for (int64_t j = 0; j < G; ++j) da[j] = dg[j];
  ln_row_backward(da, ah, gw, rstd, G);
}

template <typename T>
inline const T* ptr_or_null(const optional<Tensor>& t) {
  return t.has_value() && t->defined() ? t->data_ptr<T>() : nullptr;
}

// Rows of a constant (the zoneout weight p, 1, 0) that stand in for an absent mask or
// bias, so every inner loop loads from a pointer and vectorises (a "mask ? mask[j] : p"
// inside a loop keeps GCC from vectorising it).
template <typename T>
inline std::vector<T> row_of(int64_t n, T value) { return std::vector<T>(n, value); }

// Rows of the batch are independent through time, so each thread runs its own rows for
// every step: no synchronisation per step, and each thread's per-step product is a
// single-threaded GEMM on (rows, H) (MKL runs sequentially inside a parallel region).
inline void mm_into(Tensor out, const Tensor& x, const Tensor& w) { at::mm_out(out, x, w); }
inline void mul_into(Tensor out, const Tensor& x, const Tensor& m) { at::mul_out(out, x, m); }

template <typename F>
inline void by_rows(int64_t N, const F& fn) {
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), N / 8));
  const int64_t grain = (N + threads - 1) / threads;
  const at::ThreadLocalState caller;  // grad and inference mode are thread-local:
  at::parallel_for(0, N, grain, [&](int64_t n0, int64_t n1) {
    at::ThreadLocalStateGuard same_as_caller(caller);  // the pool's threads take the caller's
    at::NoGradGuard no_grad;
    fn(n0, n1);
  });
}

// Big per-call buffers (saved activations, gate gradients) come from a small pool. The
// allocator hands blocks of this size back to the OS when they are freed, so every call
// would otherwise fault in fresh pages — at batch 64 x 100 steps x H256 that cost as much
// as the layer-norm LSTM's arithmetic. The pool keeps owner tensors and hands out new
// tensors on their storage; a storage is reused only when no tensor but its owner refers
// to it (autograd has released the saved tensors after the backward; a graph kept with
// retain_graph keeps its buffers), so reuse never changes a result.
Tensor pooled(at::IntArrayRef sizes, const at::TensorOptions& opts) {
  constexpr int64_t kMinBytes = int64_t(1) << 20;
  constexpr size_t kMaxBuffers = 32;
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  if (numel * int64_t(opts.dtype().itemsize()) < kMinBytes) return at::empty(sizes, opts);
  static std::mutex mu;
  static std::vector<Tensor> owners;  // 1-D, never handed out themselves
  std::lock_guard<std::mutex> lock(mu);
  auto is_free = [](const Tensor& o) { return o.storage().use_count() == 1; };
  auto lend = [&](const Tensor& o) {
    return at::empty({0}, opts).set_(o.storage(), 0, sizes, c10::contiguous_strides(sizes));
  };
  for (const Tensor& o : owners) {
    if (is_free(o) && o.numel() == numel && o.dtype() == opts.dtype() && o.device() == opts.device()) return lend(o);
  }
  if (owners.size() >= kMaxBuffers) {  // make room by dropping a free buffer, if any
    for (auto it = owners.begin(); it != owners.end(); ++it) {
      if (is_free(*it)) { owners.erase(it); break; }
    }
  }
  if (owners.size() >= kMaxBuffers) return at::empty(sizes, opts);
  owners.push_back(at::empty({numel}, opts));
  return lend(owners.back());
}

struct Flags {
  bool ln, rec;
  int64_t zone;  // 0 off, 1 mask, 2 constant
  double zp;
  bool save;
};

// ---- LSTM --------------------------------------------------------------------------------
template <typename T>
std::vector<Tensor> lstm_forward_impl(const Tensor& gi, const Tensor& h0, const Tensor& c0,
                                      const Tensor& w_hh, const optional<Tensor>& b_hh,
                                      const optional<Tensor>& ln_hh, const optional<Tensor>& lnc_w,
                                      const optional<Tensor>& lnc_b, const optional<Tensor>& m_rec,
                                      const optional<Tensor>& zh, const optional<Tensor>& zc,
                                      Flags fl) {
  const int64_t L = gi.size(0), N = gi.size(1), G = gi.size(2), H = G / 4;
  const int64_t S = fl.save ? L : 1;  // saved steps (1: scratch reused at inference)
  auto opts = gi.options();
  Tensor hs = at::empty({L + 1, N, H}, opts), cs = at::empty({L + 1, N, H}, opts);
  hs[0].copy_(h0);
  cs[0].copy_(c0);
  Tensor act = pooled({S, N, G}, opts);                 // i f g o after their nonlinearity
  Tensor ah = pooled({fl.ln ? S : 1, N, G}, opts);      // LN_hh's xhat (or the raw a)
  Tensor ra = at::empty({S, N}, opts);                  // LN_hh's rstd
  Tensor ct = pooled({S, N, H}, opts);                  // c~ before zoneout
  Tensor cn = pooled({lnc_w.has_value() ? S : 1, N, H}, opts);  // LN_c's xhat
  Tensor rc = at::empty({S, N}, opts);
  Tensor tc = pooled({S, N, H}, opts);                  // tanh(c_out)
  Tensor a = at::empty({N, G}, opts), hin = fl.rec ? at::empty({N, H}, opts) : Tensor();
  Tensor wt = w_hh.t();
  const T *bh = ptr_or_null<T>(b_hh), *gh_w = ptr_or_null<T>(ln_hh);
  const T *cw = ptr_or_null<T>(lnc_w), *cb = ptr_or_null<T>(lnc_b), *mr = ptr_or_null<T>(m_rec);
  const T *zhp = ptr_or_null<T>(zh), *zcp = ptr_or_null<T>(zc);
  const T zp = fl.zone == 2 ? T(fl.zp) : T(0);
  const std::vector<T> kconst = row_of<T>(H, zp), zeros = row_of<T>(G, T(0));
  const T* bz = bh ? bh : zeros.data();
  by_rows(N, [&](int64_t n0, int64_t n1) {
  const int64_t m = n1 - n0;
  for (int64_t t = 0; t < L; ++t) {
    const int64_t s = fl.save ? t : 0;
    Tensor h_prev = hs[t];
    if (fl.rec) {
      mul_into(hin.narrow(0, n0, m), h_prev.narrow(0, n0, m), m_rec->narrow(0, n0, m));
      mm_into(a.narrow(0, n0, m), hin.narrow(0, n0, m), wt);  // (m, G)
    } else {
      mm_into(a.narrow(0, n0, m), h_prev.narrow(0, n0, m), wt);
    }
    const T* A = a.data_ptr<T>();
    const T* GI = gi.data_ptr<T>() + t * N * G;
    T* ACT = act.data_ptr<T>() + s * N * G;
    T* AH = ah.data_ptr<T>() + (fl.ln ? s * N * G : 0);
    T* RA = ra.data_ptr<T>() + s * N;
    T* CT = ct.data_ptr<T>() + s * N * H;
    T* CN = cn.data_ptr<T>() + (cw ? s * N * H : 0);
    T* RC = rc.data_ptr<T>() + s * N;
    T* TC = tc.data_ptr<T>() + s * N * H;
    const T* HP = hs.data_ptr<T>() + t * N * H;
    const T* CP = cs.data_ptr<T>() + t * N * H;
    T* HN = hs.data_ptr<T>() + (t + 1) * N * H;
    T* CNX = cs.data_ptr<T>() + (t + 1) * N * H;
    const T* ZH = zhp ? zhp + t * N * H : nullptr;
    const T* ZC = zcp ? zcp + t * N * H : nullptr;
    {
      for (int64_t n = n0; n < n1; ++n) {
        const T* a_n = A + n * G;
        const T* gi_n = GI + n * G;
        T* act_n = ACT + n * G;
        T* ah_n = AH + n * G;
        if (fl.ln) {
          RA[n] = ln_row(a_n, ah_n, G);
#pragma omp simd
          for (int64_t j = 0; j < G; ++j) act_n[j] = gi_n[j] + ah_n[j] * gh_w[j] + bz[j];
        } else {
#pragma omp simd
          for (int64_t j = 0; j < G; ++j) act_n[j] = gi_n[j] + a_n[j] + bz[j];
        }
        T *ai = act_n, *af = act_n + H, *ag = act_n + 2 * H, *ao = act_n + 3 * H;
        const T* cp = CP + n * H;
        T* ct_n = CT + n * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          ai[j] = sigm(ai[j]);
          af[j] = sigm(af[j]);
          ag[j] = std::tanh(ag[j]);
          ao[j] = sigm(ao[j]);
          ct_n[j] = af[j] * cp[j] + ai[j] * ag[j];
        }
        T* cn_n = CN + n * H;
        T* tc_n = TC + n * H;
        if (cw) {  // c_out = LN_c(c~) * w + b; xhat kept for the backward
          RC[n] = ln_row(ct_n, cn_n, H);
          const T* cbz = cb ? cb : zeros.data();
#pragma omp simd
          for (int64_t j = 0; j < H; ++j) tc_n[j] = std::tanh(cn_n[j] * cw[j] + cbz[j]);
        } else {
#pragma omp simd
          for (int64_t j = 0; j < H; ++j) tc_n[j] = std::tanh(ct_n[j]);
        }
        const T* hp = HP + n * H;
        T* hn = HN + n * H;
        T* cnx = CNX + n * H;
        const T* zh_n = ZH ? ZH + n * H : kconst.data();
        const T* zc_n = ZC ? ZC + n * H : kconst.data();
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          T h = ao[j] * tc_n[j];
          hn[j] = h + zh_n[j] * (hp[j] - h);
          cnx[j] = ct_n[j] + zc_n[j] * (cp[j] - ct_n[j]);
        }
      }
    }
  }
  });
  return {hs, cs, act, ah, ra, ct, cn, rc, tc};
}

template <typename T>
std::vector<Tensor> lstm_backward_impl(const Tensor& dy, const Tensor& dh_n, const Tensor& dc_n,
                                       const std::vector<Tensor>& saved, const Tensor& w_hh,
                                       const optional<Tensor>& ln_hh, const optional<Tensor>& lnc_w,
                                       const optional<Tensor>& m_rec, const optional<Tensor>& zh,
                                       const optional<Tensor>& zc, Flags fl) {
  const Tensor &hs = saved[0], &cs = saved[1], &act = saved[2], &ah = saved[3], &ra = saved[4];
  const Tensor &cn = saved[6], &rc = saved[7], &tc = saved[8];
  const int64_t L = act.size(0), N = act.size(1), G = act.size(2), H = G / 4;
  auto opts = act.options();
  Tensor dgi = pooled({L, N, G}, opts);                     // grad of the gate pre-activations
  Tensor da = fl.ln ? pooled({L, N, G}, opts) : dgi;        // grad of a = h_in W_hh^T
  const bool lnc = lnc_w.has_value();
  Tensor dco = at::empty({N, H}, opts);                     // grad of c_out (scratch per row)
  Tensor sums = at::zeros({N, 2 * G + 2 * H}, opts);        // per row: d b_hh, d ln_hh, d lnc_w, d lnc_b
  Tensor dh = dh_n.clone(), dc = dc_n.clone();              // carried (N, H)
  Tensor dhin = at::zeros({N, H}, opts);                    // da_t W_hh of the step after
  const T *gw = ptr_or_null<T>(ln_hh), *cw = ptr_or_null<T>(lnc_w), *mr = ptr_or_null<T>(m_rec);
  const T *zhp = ptr_or_null<T>(zh), *zcp = ptr_or_null<T>(zc);
  const T zp = fl.zone == 2 ? T(fl.zp) : T(0);
  const std::vector<T> kconst = row_of<T>(H, zp), ones = row_of<T>(H, T(1));
  T *DH = dh.data_ptr<T>(), *DC = dc.data_ptr<T>();
  by_rows(N, [&](int64_t n0, int64_t n1) {
  const int64_t m = n1 - n0;
  std::vector<T> tmp(lnc_w.has_value() ? H : 0);  // d c~ through LN_c
  for (int64_t t = L - 1; t >= 0; --t) {
    const T* DY = dy.data_ptr<T>() + t * N * H;
    const T* DHIN = dhin.data_ptr<T>();
    const T* ACT = act.data_ptr<T>() + t * N * G;
    const T* AH = ah.data_ptr<T>() + t * N * G;
    const T* RA = ra.data_ptr<T>() + t * N;
    const T* CN = cn.data_ptr<T>() + t * N * H;
    const T* RC = rc.data_ptr<T>() + t * N;
    const T* TC = tc.data_ptr<T>() + t * N * H;
    const T* HP = hs.data_ptr<T>() + t * N * H;
    const T* CP = cs.data_ptr<T>() + t * N * H;
    const T* ZH = zhp ? zhp + t * N * H : nullptr;
    const T* ZC = zcp ? zcp + t * N * H : nullptr;
    T* DGI = dgi.data_ptr<T>() + t * N * G;
    T* DA = da.data_ptr<T>() + t * N * G;
    T* DCO = dco.data_ptr<T>();
    {
      for (int64_t n = n0; n < n1; ++n) {
        T* dh_n_ = DH + n * H;
        T* dc_n_ = DC + n * H;
        const T* dhin_n = DHIN + n * H;
        const T* dy_n = DY + n * H;
        const T* mr_n = mr ? mr + n * H : ones.data();
        const T *act_n = ACT + n * G, *tc_n = TC + n * H, *cn_n = CN + n * H;
        const T *ai = act_n, *af = act_n + H, *ag = act_n + 2 * H, *ao = act_n + 3 * H;
        const T *zh_n = ZH ? ZH + n * H : kconst.data(), *zc_n = ZC ? ZC + n * H : kconst.data();
        T* dco_n = DCO + n * H;
        T* dg_n = DGI + n * G;
        // 1. the h grad arriving at step t: output grad + carried (through zoneout) + W_hh
        // path (dhin is still zero at the last step)
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) dh_n_[j] = dy_n[j] + dh_n_[j] + dhin_n[j] * mr_n[j];
        // 2. through h = h~ + kh (h_prev - h~), h~ = o tanh(c_out)
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          T kh = zh_n[j];
          T dht = dh_n_[j] * (T(1) - kh);
          dg_n[3 * H + j] = dht * tc_n[j] * ao[j] * (T(1) - ao[j]);
          dco_n[j] = dht * ao[j] * (T(1) - tc_n[j] * tc_n[j]);
          dh_n_[j] *= kh;  // the part carried straight to h_prev
        }
        // 3. through LN_c (when on) into c~
        const T* dfrom_h = dco_n;
        T* S = sums.data_ptr<T>() + n * (2 * G + 2 * H);
        if (cw) {
          const T* cn_row = cn_n;
#pragma omp simd
          for (int64_t j = 0; j < H; ++j) {
            S[2 * G + j] += dco_n[j] * cn_row[j];
            S[2 * G + H + j] += dco_n[j];
          }
          std::copy(dco_n, dco_n + H, tmp.data());
          ln_row_backward(tmp.data(), cn_n, cw, RC[n], H);
          dfrom_h = tmp.data();
        }
        // 4. c~ = f c_prev + i g, c = c~ + kc (c_prev - c~)
        const T* cp = CP + n * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          T kc = zc_n[j];
          T dct = dc_n_[j] * (T(1) - kc) + dfrom_h[j];
          dg_n[j] = dct * ag[j] * ai[j] * (T(1) - ai[j]);
          dg_n[H + j] = dct * cp[j] * af[j] * (T(1) - af[j]);
          dg_n[2 * H + j] = dct * ai[j] * (T(1) - ag[j] * ag[j]);
          dc_n_[j] = dc_n_[j] * kc + dct * af[j];
        }
        // 5. bias/gain sums, and through LN_hh into a
        recurrent_gates_backward(dg_n, AH + n * G, gw, RA[n], S, DA + n * G, G, fl.ln);
      }
    }
    // 6. the recurrent product's input grad, for step t - 1: dhin = da_t W_hh
    mm_into(dhin.narrow(0, n0, m), da[t].narrow(0, n0, m), w_hh);
  }
  });
  // h0 grad: carried part + W_hh path of step 0
  Tensor dh0 = m_rec.has_value() ? dh + dhin * (*m_rec) : dh + dhin;
  return {dgi, da, dh0, dc, sums.sum(0)};
}

// ---- GRU ---------------------------------------------------------------------------------
template <typename T>
std::vector<Tensor> gru_forward_impl(const Tensor& gi, const Tensor& h0, const Tensor& w_hh,
                                     const optional<Tensor>& b_hh, const optional<Tensor>& ln_hh,
                                     const optional<Tensor>& m_rec, const optional<Tensor>& zh,
                                     Flags fl) {
  const int64_t L = gi.size(0), N = gi.size(1), G = gi.size(2), H = G / 3;
  const int64_t S = fl.save ? L : 1;
  auto opts = gi.options();
  Tensor hs = at::empty({L + 1, N, H}, opts);
  hs[0].copy_(h0);
  Tensor act = pooled({S, N, G}, opts);                // r z n
  Tensor ghn = pooled({S, N, H}, opts);                // the recurrent n pre-activation
  Tensor ah = pooled({fl.ln ? S : 1, N, G}, opts);
  Tensor ra = at::empty({S, N}, opts);
  Tensor a = at::empty({N, G}, opts), hin = fl.rec ? at::empty({N, H}, opts) : Tensor();
  Tensor wt = w_hh.t();
  const T *bh = ptr_or_null<T>(b_hh), *gw = ptr_or_null<T>(ln_hh), *zhp = ptr_or_null<T>(zh);
  const T zp = fl.zone == 2 ? T(fl.zp) : T(0);
  const std::vector<T> kconst = row_of<T>(H, zp), zeros = row_of<T>(G, T(0));
  const T* bz = bh ? bh : zeros.data();
  by_rows(N, [&](int64_t n0, int64_t n1) {
  const int64_t m = n1 - n0;
  for (int64_t t = 0; t < L; ++t) {
    const int64_t s = fl.save ? t : 0;
    if (fl.rec) {
      mul_into(hin.narrow(0, n0, m), hs[t].narrow(0, n0, m), m_rec->narrow(0, n0, m));
      mm_into(a.narrow(0, n0, m), hin.narrow(0, n0, m), wt);
    } else {
      mm_into(a.narrow(0, n0, m), hs[t].narrow(0, n0, m), wt);
    }
    const T* A = a.data_ptr<T>();
    const T* GI = gi.data_ptr<T>() + t * N * G;
    T* ACT = act.data_ptr<T>() + s * N * G;
    T* GHN = ghn.data_ptr<T>() + s * N * H;
    T* AH = ah.data_ptr<T>() + (fl.ln ? s * N * G : 0);
    T* RA = ra.data_ptr<T>() + s * N;
    const T* HP = hs.data_ptr<T>() + t * N * H;
    T* HN = hs.data_ptr<T>() + (t + 1) * N * H;
    const T* ZH = zhp ? zhp + t * N * H : nullptr;
    {
      for (int64_t n = n0; n < n1; ++n) {
        const T* a_n = A + n * G;
        const T* gi_n = GI + n * G;
        T* act_n = ACT + n * G;  // first holds gh, then the activations
        if (fl.ln) {
          T* ah_n = AH + n * G;
          RA[n] = ln_row(a_n, ah_n, G);
#pragma omp simd
          for (int64_t j = 0; j < G; ++j) act_n[j] = ah_n[j] * gw[j] + bz[j];
        } else {
#pragma omp simd
          for (int64_t j = 0; j < G; ++j) act_n[j] = a_n[j] + bz[j];
        }
        T *r = act_n, *z = act_n + H, *nn = act_n + 2 * H, *ghn_n = GHN + n * H;
        const T* hp = HP + n * H;
        T* hn = HN + n * H;
        const T* zh_n = ZH ? ZH + n * H : kconst.data();
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          ghn_n[j] = nn[j];
          r[j] = sigm(gi_n[j] + r[j]);
          z[j] = sigm(gi_n[H + j] + z[j]);
          nn[j] = std::tanh(gi_n[2 * H + j] + r[j] * ghn_n[j]);
          T h = nn[j] + z[j] * (hp[j] - nn[j]);
          hn[j] = h + zh_n[j] * (hp[j] - h);
        }
      }
    }
  }
  });
  return {hs, act, ghn, ah, ra};
}

template <typename T>
std::vector<Tensor> gru_backward_impl(const Tensor& dy, const Tensor& dh_n,
                                      const std::vector<Tensor>& saved, const Tensor& w_hh,
                                      const optional<Tensor>& ln_hh, const optional<Tensor>& m_rec,
                                      const optional<Tensor>& zh, Flags fl) {
  const Tensor &hs = saved[0], &act = saved[1], &ghn = saved[2], &ah = saved[3], &ra = saved[4];
  const int64_t L = act.size(0), N = act.size(1), G = act.size(2), H = G / 3;
  auto opts = act.options();
  Tensor dgi = pooled({L, N, G}, opts);
  Tensor dgh = pooled({L, N, G}, opts);                   // grad of gh (pre LN gain)
  Tensor sums = at::zeros({N, 2 * G}, opts);              // per row: d b_hh, d ln_hh
  Tensor da = fl.ln ? pooled({L, N, G}, opts) : dgh;
  Tensor dh = dh_n.clone();
  Tensor dhin = at::zeros({N, H}, opts);
  const T *gw = ptr_or_null<T>(ln_hh), *mr = ptr_or_null<T>(m_rec), *zhp = ptr_or_null<T>(zh);
  const T zp = fl.zone == 2 ? T(fl.zp) : T(0);
  const std::vector<T> kconst = row_of<T>(H, zp), ones = row_of<T>(H, T(1));
  T* DH = dh.data_ptr<T>();
  by_rows(N, [&](int64_t n0, int64_t n1) {
  const int64_t m = n1 - n0;
  for (int64_t t = L - 1; t >= 0; --t) {
    const T* DY = dy.data_ptr<T>() + t * N * H;
    const T* DHIN = dhin.data_ptr<T>();
    const T* ACT = act.data_ptr<T>() + t * N * G;
    const T* GHN = ghn.data_ptr<T>() + t * N * H;
    const T* AH = ah.data_ptr<T>() + t * N * G;
    const T* RA = ra.data_ptr<T>() + t * N;
    const T* HP = hs.data_ptr<T>() + t * N * H;
    const T* ZH = zhp ? zhp + t * N * H : nullptr;
    T* DGI = dgi.data_ptr<T>() + t * N * G;
    T* DGH = dgh.data_ptr<T>() + t * N * G;
    T* DA = da.data_ptr<T>() + t * N * G;
    {
      for (int64_t n = n0; n < n1; ++n) {
        T* dh_ = DH + n * H;
        const T *dy_n = DY + n * H, *dhin_n = DHIN + n * H, *mr_n = mr ? mr + n * H : ones.data();
        const T *r = ACT + n * G, *z = r + H, *nn = r + 2 * H, *ghn_n = GHN + n * H;
        const T *hp = HP + n * H, *zh_n = ZH ? ZH + n * H : kconst.data();
        T *dgi_n = DGI + n * G, *dgh_n = DGH + n * G;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          T d = dy_n[j] + dh_[j] + dhin_n[j] * mr_n[j];  // dhin is zero at the last step
          T kh = zh_n[j];
          T dht = d * (T(1) - kh);
          T dn = dht * (T(1) - z[j]);
          T dz = dht * (hp[j] - nn[j]);
          T dnp = dn * (T(1) - nn[j] * nn[j]);
          T drp = dnp * ghn_n[j] * r[j] * (T(1) - r[j]);
          T dzp = dz * z[j] * (T(1) - z[j]);
          dgi_n[j] = drp;
          dgi_n[H + j] = dzp;
          dgi_n[2 * H + j] = dnp;
          dgh_n[j] = drp;
          dgh_n[H + j] = dzp;
          dgh_n[2 * H + j] = dnp * r[j];
          dh_[j] = d * kh + dht * z[j];
        }
        T* S = sums.data_ptr<T>() + n * 2 * G;
        recurrent_gates_backward<T>(dgh_n, AH + n * G, gw, RA[n], S, DA + n * G, G, fl.ln);
      }
    }
    mm_into(dhin.narrow(0, n0, m), da[t].narrow(0, n0, m), w_hh);
  }
  });
  Tensor dh0 = m_rec.has_value() ? dh + dhin * (*m_rec) : dh + dhin;
  return {dgi, dgh, da, dh0, sums.sum(0)};
}

Flags flags(bool ln, bool rec, int64_t zone, double zp, bool save) { return {ln, rec, zone, zp, save}; }

std::vector<Tensor> lstm_forward(Tensor gi, Tensor h0, Tensor c0, Tensor w_hh, optional<Tensor> b_hh,
                                 optional<Tensor> ln_hh, optional<Tensor> lnc_w, optional<Tensor> lnc_b,
                                 optional<Tensor> m_rec, optional<Tensor> zh, optional<Tensor> zc,
                                 int64_t zone, double zp, bool save) {
  Flags fl = flags(ln_hh.has_value(), m_rec.has_value(), zone, zp, save);
  return AT_DISPATCH_FLOATING_TYPES(gi.scalar_type(), "lstm_forward", [&] {
    return lstm_forward_impl<scalar_t>(gi, h0, c0, w_hh, b_hh, ln_hh, lnc_w, lnc_b, m_rec, zh, zc, fl);
  });
}

std::vector<Tensor> lstm_backward(Tensor dy, Tensor dh_n, Tensor dc_n, std::vector<Tensor> saved,
                                  Tensor w_hh, optional<Tensor> ln_hh, optional<Tensor> lnc_w,
                                  optional<Tensor> m_rec, optional<Tensor> zh, optional<Tensor> zc,
                                  int64_t zone, double zp) {
  Flags fl = flags(ln_hh.has_value(), m_rec.has_value(), zone, zp, true);
  return AT_DISPATCH_FLOATING_TYPES(dy.scalar_type(), "lstm_backward", [&] {
    return lstm_backward_impl<scalar_t>(dy, dh_n, dc_n, saved, w_hh, ln_hh, lnc_w, m_rec, zh, zc, fl);
  });
}

std::vector<Tensor> gru_forward(Tensor gi, Tensor h0, Tensor w_hh, optional<Tensor> b_hh,
                                optional<Tensor> ln_hh, optional<Tensor> m_rec, optional<Tensor> zh,
                                int64_t zone, double zp, bool save) {
  Flags fl = flags(ln_hh.has_value(), m_rec.has_value(), zone, zp, save);
  return AT_DISPATCH_FLOATING_TYPES(gi.scalar_type(), "gru_forward", [&] {
    return gru_forward_impl<scalar_t>(gi, h0, w_hh, b_hh, ln_hh, m_rec, zh, fl);
  });
}

std::vector<Tensor> gru_backward(Tensor dy, Tensor dh_n, std::vector<Tensor> saved, Tensor w_hh,
                                 optional<Tensor> ln_hh, optional<Tensor> m_rec, optional<Tensor> zh,
                                 int64_t zone, double zp) {
  Flags fl = flags(ln_hh.has_value(), m_rec.has_value(), zone, zp, true);
  return AT_DISPATCH_FLOATING_TYPES(dy.scalar_type(), "gru_backward", [&] {
    return gru_backward_impl<scalar_t>(dy, dh_n, saved, w_hh, ln_hh, m_rec, zh, fl);
  });
}

}  // namespace

#include "stream.h"

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("lstm_forward", &lstm_forward);
  m.def("lstm_backward", &lstm_backward);
  m.def("gru_forward", &gru_forward);
  m.def("gru_backward", &gru_backward);
  bind_stream(m);
}

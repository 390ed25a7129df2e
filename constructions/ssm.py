"""The convolution (SSM) layer of Section 2 (ii), realised by explicit state space parameters (Appendices A, B).

Each channel h is a linear time-invariant SSM with state size m (h_0 = 0):

    x_t = A x_{t-1} + B u_t,        y_t = C x_{t-1} + D u_t,

so its filter is k_0 = D and k_s = C A^{s-1} B (s >= 1); D alone (m = 0) is the identity channel and a shift
register of size ℓ is an exact delay by ℓ.  (The spec writes y_t = C x_t + D u_t, k_0 = CB + D; reading the
state *before* the update is the same class and makes delay ℓ cost exactly ℓ states.)

The layer with window U maps a sequence Z of shape (..., N, D_in) to

    u = Z W_in^T,     y_t[h] = Σ_{s=0}^{U-1} k_s[h] u_{t-s}[h]   (u_t = 0 for t < 0),     out = y W_out^T

(W_in, W_out default to the identity).  Three evaluations must agree to round-off:
  * ``scan``: the recurrences; a finite window U < N subtracts a second SSM fed with u delayed by U
    (Appendix B): Σ_{s>=U} k_s u_{t-s} = (C A^{U-1}) x'_{t}, x'_t = A x'_{t-1} + B u_{t-U};
  * ``fft``: the materialised filter (length min(U, N)) convolved by FFT, O(N log N), no N x N matrix;
  * ``exact``: running sums (cumulative sum minus its value U steps back) and delays (shifts), O(N) with no
    FFT round-off, for channels of those two families.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .affine import as_finite

FAMILIES = ("running_sum", "delay", "cosine", "general")
# FFT path: process channels in chunks so that one chunk's spectra stay below this many complex entries.
_FFT_ENTRIES = 1 << 24


@dataclass(frozen=True)
class SSMChannel:
    """One channel's (A, B, C, D); ``family`` and ``ell`` (delay) tag the exact evaluation it admits."""

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    D: float
    family: str = "general"
    ell: int = 0
    info: tuple = ()  # family parameters, e.g. (β, θ, φ, ρ) of a cosine channel; metadata only

    def __post_init__(self):
        A = as_finite("SSM A", self.A, 2)
        m = A.shape[0]
        if A.shape != (m, m):
            raise ValueError(f"SSM A must be square, got {A.shape}")
        B = as_finite("SSM B", self.B, 1)
        C = as_finite("SSM C", self.C, 1)
        if B.shape != (m,) or C.shape != (m,):
            raise ValueError(f"SSM B and C must have shape ({m},), got {B.shape} and {C.shape}")
        if not np.isfinite(self.D):
            raise ValueError("SSM D is NaN or inf")
        if self.family not in FAMILIES:
            raise ValueError(f"unknown filter family {self.family!r}; expected one of {FAMILIES}")
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "B", B)
        object.__setattr__(self, "C", C)
        object.__setattr__(self, "D", float(self.D))

    @property
    def m(self) -> int:
        return self.A.shape[0]

    @property
    def nnz(self) -> int:
        return int(np.count_nonzero(self.A) + np.count_nonzero(self.B) + np.count_nonzero(self.C)
                   + (self.D != 0))

    @property
    def max_abs(self) -> float:
        return float(max([abs(self.D)] + [float(np.max(np.abs(a), initial=0.0)) for a in (self.A, self.B, self.C)]))

    def filter(self, length: int) -> np.ndarray:
        """k_0, ..., k_{length-1}."""
        return _filters([self], length)[0]


def running_sum() -> SSMChannel:
    """k_s = 1 for all s >= 0: m = 1, A = B = C = D = 1."""
    one = np.ones(1)
    return SSMChannel(np.ones((1, 1)), one, one, 1.0, "running_sum")


def delay(ell: int) -> SSMChannel:
    """k_s = 1 iff s = ℓ: a shift register of size ℓ (ℓ = 0: D = 1 alone, the identity channel)."""
    if isinstance(ell, bool) or int(ell) != ell or ell < 0:
        raise ValueError(f"delay must be a non-negative integer, got {ell!r}")
    ell = int(ell)
    if ell == 0:
        return SSMChannel(np.zeros((0, 0)), np.zeros(0), np.zeros(0), 1.0, "delay", 0)
    A = np.eye(ell, k=-1)
    B = np.zeros(ell)
    B[0] = 1.0
    C = np.zeros(ell)
    C[-1] = 1.0
    return SSMChannel(A, B, C, 0.0, "delay", ell)


def cosine(beta, theta, phi=None, rho=None) -> SSMChannel:
    """k_s = Σ_j β_j ρ_j^s cos(θ_j s + φ_j): one 2x2 rotation block ρ_j R(θ_j) per term (Appendix A)."""
    beta = np.atleast_1d(np.asarray(beta, dtype=np.float64))
    theta = np.broadcast_to(np.asarray(theta, dtype=np.float64), beta.shape)
    phi = np.zeros_like(beta) if phi is None else np.broadcast_to(np.asarray(phi, dtype=np.float64), beta.shape)
    rho = np.ones_like(beta) if rho is None else np.broadcast_to(np.asarray(rho, dtype=np.float64), beta.shape)
    J = beta.size
    A = np.zeros((2 * J, 2 * J))
    Bv = np.zeros(2 * J)
    Cv = np.zeros(2 * J)
    for j in range(J):
        c, s = np.cos(theta[j]), np.sin(theta[j])
        A[2 * j:2 * j + 2, 2 * j:2 * j + 2] = rho[j] * np.array([[c, -s], [s, c]])
        Bv[2 * j] = beta[j] * rho[j] * np.cos(theta[j] + phi[j])
        Bv[2 * j + 1] = beta[j] * rho[j] * np.sin(theta[j] + phi[j])
        Cv[2 * j] = 1.0
    info = tuple(tuple(float(v) for v in a) for a in (beta, theta, phi, rho))
    return SSMChannel(A, Bv, Cv, float(np.sum(beta * np.cos(phi))), "cosine", 0, info)


def _filters(channels, length: int) -> np.ndarray:
    """Materialise k_0..k_{length-1} for every channel, grouped by state size, by doubling powers of A."""
    H = len(channels)
    k = np.zeros((H, length))
    k[:, 0] = [ch.D for ch in channels]
    if length == 1:
        return k
    by_m: dict[int, list[int]] = {}
    for i, ch in enumerate(channels):
        if ch.m:
            by_m.setdefault(ch.m, []).append(i)
    for m, idx in by_m.items():
        A = np.stack([channels[i].A for i in idx])  # (h, m, m)
        V = np.stack([channels[i].B for i in idx])[:, :, None]  # (h, m, 1): columns A^j B
        C = np.stack([channels[i].C for i in idx])
        P = A
        while V.shape[2] < length - 1:
            V = np.concatenate([V, P @ V], axis=2)
            P = P @ P
        k[idx, 1:] = np.einsum("hm,hms->hs", C, V[:, :, :length - 1])
    return k


def next_fast_len(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (numpy's FFT is fastest on such sizes)."""
    best = 1 << (int(n) - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


@dataclass(frozen=True)
class SSMLayer:
    """A convolution layer: input map, one SSM channel per coordinate, window U, output map."""

    channels: tuple
    U: int
    W_in: np.ndarray | None = None
    W_out: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        chans = tuple(self.channels)
        if not chans or not all(isinstance(c, SSMChannel) for c in chans):
            raise ValueError("an SSM layer needs a non-empty sequence of SSMChannel")
        object.__setattr__(self, "channels", chans)
        if isinstance(self.U, bool) or int(self.U) != self.U or self.U < 1:
            raise ValueError(f"window U must be a positive integer, got {self.U!r}")
        object.__setattr__(self, "U", int(self.U))
        H = len(chans)
        if self.W_in is not None:
            W = as_finite("SSM input map", self.W_in, 2)
            if W.shape[0] != H:
                raise ValueError(f"input map has {W.shape[0]} rows but the layer has {H} channels")
            object.__setattr__(self, "W_in", W)
        if self.W_out is not None:
            W = as_finite("SSM output map", self.W_out, 2)
            if W.shape[1] != H:
                raise ValueError(f"output map has {W.shape[1]} columns but the layer has {H} channels")
            object.__setattr__(self, "W_out", W)

    @property
    def H(self) -> int:
        return len(self.channels)

    @property
    def d_in(self) -> int:
        return self.H if self.W_in is None else self.W_in.shape[1]

    @property
    def d_out(self) -> int:
        return self.H if self.W_out is None else self.W_out.shape[0]

    @property
    def state_sizes(self) -> list[int]:
        return [c.m for c in self.channels]

    def counts(self) -> dict:
        """Nonzeros and max entry of (W_in, every channel's A, B, C, D, W_out); state sizes; window."""
        nnz = sum(c.nnz for c in self.channels)
        B = max(c.max_abs for c in self.channels)
        for W in (self.W_in, self.W_out):
            if W is not None:
                nnz += int(np.count_nonzero(W))
                B = max(B, float(np.max(np.abs(W))))
        fam = {f: sum(c.family == f for c in self.channels) for f in FAMILIES}
        return {"U": self.U, "channels": self.H, "d_in": self.d_in, "d_out": self.d_out, "nnz": nnz, "B": B,
                "state_total": sum(self.state_sizes), "state_max": max(self.state_sizes),
                "families": {f: n for f, n in fam.items() if n}}

    def filters(self, N: int) -> np.ndarray:
        """The filters k_s, s < min(U, N), of every channel: shape (H, min(U, N))."""
        length = min(self.U, int(N))
        if length not in self._cache:
            self._cache[length] = _filters(self.channels, length)
        return self._cache[length]

    # ------------------------------------------------------------------ evaluation
    def __call__(self, Z, method: str = "auto") -> np.ndarray:
        """Z of shape (..., N, d_in) -> (..., N, d_out).  method: 'auto', 'fft', 'scan' or 'exact'."""
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim < 2 or Z.shape[-1] != self.d_in:
            raise ValueError(f"SSM layer expects inputs of shape (..., N, {self.d_in}), got {Z.shape}")
        if not np.all(np.isfinite(Z)):
            raise ValueError("SSM layer input contains NaN or inf")
        u = Z if self.W_in is None else Z @ self.W_in.T
        if method == "fft":
            y = self._fft(u, np.arange(self.H))
        elif method == "scan":
            y = self._scan(u)
        elif method == "exact":
            bad = [i for i, c in enumerate(self.channels) if c.family not in ("running_sum", "delay")]
            if bad:
                raise ValueError(f"channels {bad[:5]} have no exact O(N) path (families running_sum, delay only)")
            y = self._exact(u, np.arange(self.H))
        elif method == "auto":
            exact = np.array([c.family in ("running_sum", "delay") for c in self.channels])
            y = np.empty_like(u)
            if exact.any():
                y[..., exact] = self._exact(u, np.flatnonzero(exact))
            if (~exact).any():
                y[..., ~exact] = self._fft(u, np.flatnonzero(~exact))
        else:
            raise ValueError(f"unknown method {method!r}; expected 'auto', 'fft', 'scan' or 'exact'")
        return y if self.W_out is None else y @ self.W_out.T

    def _fft(self, u: np.ndarray, idx: np.ndarray) -> np.ndarray:
        N = u.shape[-2]
        k = self.filters(N)[idx]
        nfft = next_fast_len(N + k.shape[1] - 1)
        lead = u.shape[:-2]
        batch = int(np.prod(lead)) if lead else 1
        uu = u[..., idx].reshape(batch, N, idx.size)
        out = np.empty((batch, N, idx.size))
        step = max(1, _FFT_ENTRIES // (batch * (nfft // 2 + 1)))
        for s in range(0, idx.size, step):
            K = np.fft.rfft(k[s:s + step], n=nfft, axis=1).T  # (nfreq, h)
            F = np.fft.rfft(uu[:, :, s:s + step], n=nfft, axis=1)  # (batch, nfreq, h)
            out[:, :, s:s + step] = np.fft.irfft(F * K, n=nfft, axis=1)[:, :N]
        return out.reshape(*lead, N, idx.size)

    def _exact(self, u: np.ndarray, idx: np.ndarray) -> np.ndarray:
        N = u.shape[-2]
        y = np.zeros(u.shape[:-1] + (idx.size,))
        rs = np.array([self.channels[i].family == "running_sum" for i in idx])
        if rs.any():
            c = np.cumsum(u[..., idx[rs]], axis=-2)
            if self.U < N:
                c[..., self.U:, :] -= c[..., :N - self.U, :].copy()
            y[..., rs] = c
        for j in np.flatnonzero(~rs):
            ell = self.channels[idx[j]].ell
            if ell < min(self.U, N):
                y[..., ell:, j] = u[..., :N - ell, idx[j]]
        return y

    def _scan(self, u: np.ndarray) -> np.ndarray:
        """The recurrences, vectorised over batch and channels of equal state size (Appendix B for U < N)."""
        N = u.shape[-2]
        lead = u.shape[:-2]
        uu = u.reshape(-1, N, self.H)
        y = uu * np.array([c.D for c in self.channels])
        windowed = self.U < N
        by_m: dict[int, list[int]] = {}
        for i, ch in enumerate(self.channels):
            if ch.m:
                by_m.setdefault(ch.m, []).append(i)
        for m, idx in by_m.items():
            A = np.stack([self.channels[i].A for i in idx])  # (h, m, m)
            Bm = np.stack([self.channels[i].B for i in idx])  # (h, m)
            C = np.stack([self.channels[i].C for i in idx])  # (h, m)
            # C' = C A^{U-1} for the subtracted recurrence fed with u_{t-U}
            Cw = np.einsum("hm,hmn->hn", C, np.stack([np.linalg.matrix_power(a, self.U - 1) for a in A])) \
                if windowed else None
            x = np.zeros((uu.shape[0], len(idx), m))
            xw = np.zeros_like(x)
            ui = uu[:, :, idx]
            for t in range(N):
                y[:, t, idx] += np.einsum("hm,bhm->bh", C, x)
                x = np.einsum("hij,bhj->bhi", A, x) + Bm * ui[:, t, :, None]
                if windowed:
                    y[:, t, idx] -= np.einsum("hm,bhm->bh", Cw, xw)
                    if t >= self.U - 1:
                        # after this step xw holds the state of the delayed input up to u_{t+1-U}
                        xw = np.einsum("hij,bhj->bhi", A, xw) + Bm * ui[:, t + 1 - self.U, :, None]
        return y.reshape(*lead, N, self.H)

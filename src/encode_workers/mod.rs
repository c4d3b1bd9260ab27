//! Two workers that encode and decode off the page's thread, so the page never computes the
//! model on the CPU backend: it only paints and answers clicks.
//!
//! The probabilistic U-Net's encode splits in two halves that need nothing of each other
//! (`session::Elsewhere`): the U-Net with fcomb's projection on one worker, the prior net on
//! the other, side by side. The projection then goes to the second worker too, and every batch
//! of latents afterwards is decoded half on each. Both workers are second instances of this
//! same wasm (`crate::wasm_worker`) holding the model in use; messages carry numbers as
//! transferred typed arrays, so no `SharedArrayBuffer` (and no cross-origin isolation) is
//! needed.
//!
//! Whenever the workers cannot answer — still starting, loading another model, the
//! hierarchical model or WebGPU in use, a worker gone — the page's own thread runs the model
//! as before: the steps ask here first and fall back (`session::Host`).

mod helper;
mod inside;
mod wire;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use futures::future::join;
use js_sys::{Float32Array, Uint8Array};
use metrics::Mask;
use probunet::HostPrior;
use session::{Elsewhere, HostMap};
use wasm_bindgen::{JsCast, JsValue};

use helper::Helper;
pub use inside::encode_worker;
use wire::{Reply, Request};

/// What the workers can do now.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// No model they run is in use (the hierarchical model, WebGPU), or none yet.
    Idle,
    Loading,
    Ready,
    /// A worker failed; the page computes on its own thread from now on.
    Broken,
}

/// The page's two encode workers.
pub struct EncodeWorkers {
    /// Runs the U-Net and fcomb's projection; decodes the first half of every batch.
    unet: Helper,
    /// Runs the prior net, then holds a copy of the projection; decodes the second half.
    prior: Helper,
    state: Cell<State>,
    /// Bumped by every change of model: an answer to an older generation is not used.
    generation: Cell<u64>,
    next_ticket: Cell<u64>,
    /// The encoding both workers hold.
    held: Cell<Option<u64>>,
}

impl EncodeWorkers {
    /// Starts both workers (their wasm compiles meanwhile) and waits until both run.
    pub async fn start() -> Result<Self, String> {
        let (unet, prior) = join(Helper::start(), Helper::start()).await;
        Ok(Self {
            unet: unet?,
            prior: prior?,
            state: Cell::new(State::Idle),
            generation: Cell::new(0),
            next_ticket: Cell::new(0),
            held: Cell::new(None),
        })
    }

    /// Gives both workers the model in use (probabilistic U-Net weights). From this call
    /// until both have it, the page computes: no encode can start on the previous model. The
    /// future does the loading (spawn it, or await it to know when they are ready).
    pub fn load(self: &Rc<Self>, weights: Arc<Vec<u8>>) -> impl Future<Output = ()> + 'static {
        let generation = self.change_model(State::Loading);
        let workers = self.clone();
        async move {
            let bytes = || Some(Uint8Array::from(weights.as_slice()).into());
            let (unet, prior) = join(
                workers.unet.ask(&Request::Load, bytes()),
                workers.prior.ask(&Request::Load, bytes()),
            )
            .await;
            if let Some(_loaded) = workers.answered(generation, unet.and(prior))
                && workers.state.get() == State::Loading
            {
                workers.state.set(State::Ready);
            }
        }
    }

    /// Both workers hold the model in use.
    pub fn is_ready(&self) -> bool {
        self.state.get() == State::Ready
    }

    /// The model in use is not one the workers run: the page computes.
    pub fn set_idle(&self) {
        self.change_model(State::Idle);
    }

    /// Encodes `width`×`height` model intensities on both workers side by side; `None` if
    /// they cannot (the page encodes).
    pub async fn encode(&self, pixels: &[f32], width: usize, height: usize) -> Option<Elsewhere> {
        if self.state.get() != State::Ready {
            return None;
        }
        let generation = self.generation.get();
        let ticket = self.next_ticket.get() + 1;
        self.next_ticket.set(ticket);
        self.held.set(None);
        let pixels = || Some(Float32Array::from(pixels).into());
        let project = Request::Project {
            ticket,
            width,
            height,
        };
        let prior = Request::Prior { width, height };
        let (projected, prior) = join(
            self.unet.ask(&project, pixels()),
            self.prior.ask(&prior, pixels()),
        )
        .await;
        let made = self.answered(generation, projected.and_then(projection));
        let prior = self.answered(generation, prior.and_then(prior_of))?;
        let projection = made?;
        // The second worker keeps a copy, to decode half of every batch.
        let hold = Request::Hold {
            ticket,
            channels: projection.channels,
            height: projection.height,
            width: projection.width,
        };
        let copy = Float32Array::from(projection.data.as_slice());
        let held = self.prior.ask(&hold, Some(copy.into())).await;
        self.answered(
            generation,
            held.and_then(expect(Reply::Held, "keeping a projection")),
        )?;
        self.held.set(Some(ticket));
        Some(Elsewhere {
            ticket,
            projection,
            prior,
        })
    }

    /// Masks for `zs` of the encoding `ticket`, half from each worker; `None` if they no
    /// longer hold it (the page decodes).
    pub async fn decode(&self, ticket: u64, zs: &[Vec<f32>]) -> Option<Vec<Mask>> {
        if self.state.get() != State::Ready || self.held.get() != Some(ticket) || zs.is_empty() {
            return None;
        }
        let generation = self.generation.get();
        let (first, second) = zs.split_at(zs.len().div_ceil(2));
        let (a, b) = join(
            decode_on(&self.unet, ticket, first),
            decode_on(&self.prior, ticket, second),
        )
        .await;
        let mut masks = self.answered(generation, a)??;
        masks.extend(self.answered(generation, b)??);
        Some(masks)
    }

    /// A new model generation in `state`: nothing held, older answers void.
    fn change_model(&self, state: State) -> u64 {
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        self.held.set(None);
        if self.state.get() != State::Broken {
            self.state.set(state);
        }
        generation
    }

    /// An answer, if it is for the model still in use; a failure stops the workers' use.
    fn answered<T>(&self, generation: u64, answer: Result<T, String>) -> Option<T> {
        match answer {
            Ok(value) if self.generation.get() == generation => Some(value),
            Ok(_) => None,
            Err(why) => {
                self.fail(&why);
                None
            }
        }
    }

    fn fail(&self, why: &str) {
        if self.state.replace(State::Broken) != State::Broken {
            web_sys::console::warn_1(
                &format!("{why}; the page runs the model on its own thread from now on").into(),
            );
        }
    }
}

/// Masks for `zs` from one worker; `Ok(None)` if it no longer holds `ticket`.
async fn decode_on(
    helper: &Helper,
    ticket: u64,
    zs: &[Vec<f32>],
) -> Result<Option<Vec<Mask>>, String> {
    if zs.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let dims = zs[0].len();
    let flat: Vec<f32> = zs.iter().flatten().copied().collect();
    let request = Request::Decode {
        ticket,
        count: zs.len(),
        dims,
    };
    let data = Float32Array::from(flat.as_slice()).into();
    match helper.ask(&request, Some(data)).await? {
        (Reply::NotHeld, _) => Ok(None),
        (Reply::Masks { width, height }, data) => {
            let bytes = bytes(&data)?;
            let pixels = width * height;
            if pixels == 0 || bytes.len() != pixels * zs.len() {
                return Err(format!("{} mask bytes for {} masks", bytes.len(), zs.len()));
            }
            let masks = bytes
                .chunks(pixels)
                .map(|mask| {
                    let bools: Vec<bool> = mask.iter().map(|&b| b != 0).collect();
                    Mask::from_bools(width, height, &bools).map_err(|e| e.to_string())
                })
                .collect::<Result<_, _>>()?;
            Ok(Some(masks))
        }
        (other, _) => Err(unexpected(&other, "a decode")),
    }
}

/// The projection in a [`Reply::Projected`].
fn projection((reply, data): (Reply, JsValue)) -> Result<HostMap, String> {
    match reply {
        Reply::Projected {
            channels,
            height,
            width,
        } => Ok(HostMap {
            channels,
            height,
            width,
            data: floats(&data)?,
        }),
        other => Err(unexpected(&other, "an encode")),
    }
}

/// The prior in a [`Reply::Prior`].
fn prior_of((reply, data): (Reply, JsValue)) -> Result<HostPrior, String> {
    match reply {
        Reply::Prior { dims } => {
            let values = floats(&data)?;
            if values.len() != 2 * dims {
                return Err(format!("{} numbers for a {dims}-d prior", values.len()));
            }
            let (mu, sigma) = values.split_at(dims);
            Ok(HostPrior {
                mu: mu.to_vec(),
                sigma: sigma.to_vec(),
            })
        }
        other => Err(unexpected(&other, "the prior")),
    }
}

/// Accepts exactly `wanted` (a reply without numbers) to the request `asked`.
fn expect(
    wanted: Reply,
    asked: &'static str,
) -> impl FnOnce((Reply, JsValue)) -> Result<(), String> {
    move |(reply, _)| {
        if std::mem::discriminant(&reply) == std::mem::discriminant(&wanted) {
            Ok(())
        } else {
            Err(unexpected(&reply, asked))
        }
    }
}

fn unexpected(reply: &Reply, to: &str) -> String {
    format!("an encode worker answered {} to {to}", reply.kind())
}

fn floats(data: &JsValue) -> Result<Vec<f32>, String> {
    data.dyn_ref::<Float32Array>()
        .map(Float32Array::to_vec)
        .ok_or_else(|| "an encode worker's answer came without its numbers".into())
}

fn bytes(data: &JsValue) -> Result<Vec<u8>, String> {
    data.dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| "an encode worker's masks did not come".into())
}

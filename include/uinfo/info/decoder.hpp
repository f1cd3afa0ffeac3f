// Decoders: the predictive families V of V-information (Xu et al. 2020). Each is a plain uinfo
// network, trained by uinfo's optimizers on a representation Z (features x samples) to predict a
// label; usable_information() then scores it on held-out samples.
//
// A decoder is a feature map (see preprocess.hpp), fitted to the training features, followed by a
// network. It keeps both between fits: when the same layer is probed again later in training, the
// map is refitted and the previous weights are carried over to the new coordinates (warm start),
// so the fit starts where the last one ended.
//   LinearDecoder (linear_decoder.hpp): multinomial logistic regression by L-BFGS, its L2 penalty
//     chosen from the data (l2_selection.hpp);
//   MlpDecoder (mlp_decoder.hpp): a ReLU MLP by Adam with early stopping;
//   AuthorsDecoder (authors_decoder.hpp): Kleinman, Chandrasekaran & Kao's MLP and schedule.
#pragma once

#include "uinfo/info/authors_decoder.hpp"
#include "uinfo/info/decoder_base.hpp"
#include "uinfo/info/linear_decoder.hpp"
#include "uinfo/info/mlp_decoder.hpp"

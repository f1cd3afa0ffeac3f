// Coarse labels as data: a grouping of a data set's fine classes into named groups, such as
// Fashion-MNIST's footwear {Sandal, Sneaker, Ankle boot}. Usable information about a coarse label
// asks how much of the fine label's information a representation keeps at that grain.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "uinfo/core/error.hpp"
#include "uinfo/loss/softmax_cross_entropy.hpp"

namespace uinfo {

struct LabelGrouping {
  std::string name;                 // e.g. "garment_kind"
  std::vector<std::string> groups;  // group names; a coarse label indexes this
  std::vector<Label> group_of;      // group_of[fine] is the coarse label of fine class `fine`

  Index fine_classes() const { return static_cast<Index>(group_of.size()); }
  Index coarse_classes() const { return static_cast<Index>(groups.size()); }

  // How many fine classes each group holds.
  std::vector<Index> group_sizes() const {
    std::vector<Index> sizes(groups.size(), 0);
    for (const Label g : group_of) {
      if (g >= 0 && g < coarse_classes()) ++sizes[static_cast<std::size_t>(g)];
    }
    return sizes;
  }

  // Throws InvalidArgument unless every fine class maps to a group and every group is used.
  void validate() const {
    require_labels_in_range(group_of, coarse_classes(),
                            "the fine-to-group map of the grouping '" + name + "'");
    const auto sizes = group_sizes();
    for (std::size_t g = 0; g < sizes.size(); ++g) {
      if (sizes[g] == 0) {
        throw InvalidArgument("uinfo: the grouping '" + name + "' has no fine class in group " +
                              std::to_string(g) + " ('" + groups[g] +
                              "'); expected every group used");
      }
    }
  }
};

// The coarse label of each fine label. Throws InvalidArgument for a fine label the grouping does
// not map, naming its index.
inline std::vector<Label> coarse_labels(std::span<const Label> fine,
                                        const LabelGrouping& grouping) {
  grouping.validate();
  require_labels_in_range(fine, grouping.fine_classes(),
                          "fine labels given to the grouping '" + grouping.name + "'");
  std::vector<Label> coarse(fine.size());
  for (std::size_t k = 0; k < fine.size(); ++k) {
    coarse[k] = grouping.group_of[static_cast<std::size_t>(fine[k])];
  }
  return coarse;
}

}  // namespace uinfo

// cntr-tui demo program in C++: namespaces, templates and a std::vector of shapes,
// so symbol and source resolution is tried on a second shape of binary.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

namespace geometry {

template <typename Number>
struct Point {
    Number x;
    Number y;
};

class Shape {
public:
    virtual ~Shape() = default;
    virtual double area() const = 0;
};

template <typename Number>
class Rectangle : public Shape {
public:
    Rectangle(Point<Number> corner, Number width, Number height)
        : corner_(corner), width_(width), height_(height) {}
    double area() const override { return static_cast<double>(width_) * height_; }

private:
    Point<Number> corner_;
    Number width_;
    Number height_;
};

template <typename Number>
double total_area(const std::vector<std::unique_ptr<Shape>> &shapes, Number scale) {
    double sum = 0;
    for (const auto &shape : shapes)
        sum += shape->area() * scale;
    return sum;
}

}  // namespace geometry

namespace {
std::atomic<bool> stopping{false};
void on_term(int) { stopping = true; }
}  // namespace

int main() {
    std::signal(SIGTERM, on_term);
    std::signal(SIGINT, on_term);
    std::vector<std::unique_ptr<geometry::Shape>> shapes;
    shapes.push_back(std::make_unique<geometry::Rectangle<int>>(geometry::Point<int>{0, 0}, 3, 4));
    shapes.push_back(
        std::make_unique<geometry::Rectangle<double>>(geometry::Point<double>{1.5, 2.5}, 2.0, 0.5));
    std::thread painter([&shapes] {
        while (!stopping) {
            volatile double area = geometry::total_area(shapes, 2);
            (void)area;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    std::printf("ready %zu shapes\n", shapes.size());
    std::fflush(stdout);
    painter.join();
    return 0;
}

// Appended below main so that the lines above keep their numbers (tests name them).
// A thread started before main holds standard library containers as locals for as long
// as the program runs: their contents show through gdb's libstdc++ pretty printers.
#include <map>
#include <numeric>
#include <pthread.h>
#include <string>

namespace inventory {

// Called each round: a breakpoint here stops with keep_inventory's containers one frame up.
__attribute__((noinline)) void count_round(const std::vector<int> &counts) {
    volatile std::size_t seen = counts.size();
    (void)seen;
}

void keep_inventory() {
    pthread_setname_np(pthread_self(), "inventory");
    std::vector<int> counts{1, 2, 3};
    std::string label = "rectangles";
    std::map<std::string, int> sides{{"rectangle", 4}, {"triangle", 3}};
    std::vector<int> many(100000);  // longer than gdb prints: 0, 1, 2, ...
    std::iota(many.begin(), many.end(), 0);
    while (!stopping) {
        count_round(counts);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

// Started during static initialisation: main (above) stays as it was.
struct Keeper {
    Keeper() { std::thread(keep_inventory).detach(); }
} keeper;

}  // namespace inventory

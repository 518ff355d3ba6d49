package tinyif

// The small lexicons the corpus is built from. Everything here is the
// project's own wording. Topics are noun phrases that read naturally both in a
// request ("Tell me about owls.") and as the subject of a sentence built with a
// modal verb ("Owls can ..."), so no subject-verb agreement is needed.

// topicWords lists every topic. Which split a topic belongs to (train,
// validation, held-out test) is decided by its index; see TopicSplit.
var topicWords = []string{
	// animals
	"owls", "foxes", "whales", "bees", "horses", "dolphins", "penguins", "rabbits",
	"turtles", "wolves", "parrots", "camels", "otters", "frogs", "eagles", "goats",
	"squirrels", "salmon", "ants", "deer", "bats", "crabs", "swans", "lizards",
	"ducks", "badgers", "sheep", "hedgehogs", "seals", "pigeons", "moths", "beavers",
	// places
	"harbors", "deserts", "libraries", "forests", "islands", "markets", "mountains", "villages",
	"bridges", "caves", "gardens", "lighthouses", "museums", "meadows", "castles", "beaches",
	"train stations", "bakeries", "canyons", "lakes", "farms", "stadiums", "temples", "valleys",
	"airports", "playgrounds", "rivers", "glaciers", "vineyards", "orchards", "harbor towns", "swamps",
	// food and drink
	"bread", "cheese", "soup", "apples", "tea", "coffee", "honey", "rice",
	"oranges", "pancakes", "noodles", "chocolate", "tomatoes", "lemons", "pears", "yogurt",
	"dumplings", "olives", "carrots", "mushrooms", "walnuts", "plums", "cucumbers", "pumpkins",
	// things
	"bicycles", "kites", "clocks", "umbrellas", "candles", "maps", "pianos", "boats",
	"lanterns", "books", "telescopes", "violins", "hats", "scarves", "compasses", "backpacks",
	"pencils", "teapots", "ladders", "windmills", "sailboats", "trains", "kettles", "blankets",
	// nature and weather
	"rain", "snow", "thunderstorms", "rainbows", "sunsets", "tides", "volcanoes", "waterfalls",
	"clouds", "autumn leaves", "fog", "wildflowers", "stars", "fireflies", "seashells", "pebbles",
	// activities
	"chess", "gardening", "swimming", "painting", "hiking", "baking", "fishing", "knitting",
	"dancing", "camping", "sailing", "pottery", "juggling", "cycling", "birdwatching", "skating",
}

var adjectives = []string{
	"calm", "gentle", "lively", "curious", "sturdy", "colorful", "quiet", "warm",
	"simple", "useful", "graceful", "ancient", "familiar", "playful", "patient", "humble",
	"clever", "peaceful", "busy", "cheerful", "steady", "delicate", "bold", "cozy",
}

var countries = []string{
	"Spain", "Canada", "Japan", "Brazil", "Kenya", "Norway", "Peru", "India",
	"Italy", "Mexico", "Egypt", "Chile", "Ireland", "Vietnam", "Greece", "Morocco",
}

var people = []string{
	"children", "farmers", "travelers", "artists", "teachers", "students", "cooks", "sailors",
	"families", "scientists", "neighbors", "writers", "musicians", "grandparents", "hikers", "poets",
}

var times = []string{
	"quiet morning", "cold evening", "winter day", "summer night", "rainy afternoon", "Sunday",
	"holiday", "spring morning", "windy day", "long weekend", "Monday", "clear night",
}

var sources = []string{
	"old books", "local guides", "museums", "friends", "short films", "town records",
	"field notes", "family stories", "school lessons", "travel diaries",
}

var settings = []string{
	"small towns", "busy cities", "open fields", "quiet corners", "coastal villages", "old parks",
	"river valleys", "northern hills", "sunny plains", "hidden places",
}

var months = []string{
	"January", "March", "May", "July", "September", "November", "April", "October",
}

// keywordChoices are the words used by the "include the word" instruction.
// None of them occurs (even as a substring) in an answer without it; a test
// checks this.
var keywordChoices = []string{
	"adventure", "harmony", "mystery", "freedom", "balance", "nostalgia", "courage", "treasure",
}

// endPhraseChoices are the closing phrases used by the "end with" instruction.
var endPhraseChoices = []string{
	"Is there anything else I can help with?",
	"Hope this helps.",
	"That is all for now.",
}

// requestTemplates phrase the base request; %s is the topic.
var requestTemplates = []string{
	"Tell me about %s.",
	"Describe %s.",
	"What can you say about %s?",
	"Write a few lines about %s.",
	"Give me a short note on %s.",
	"I would like to hear about %s.",
	"Say something about %s.",
	"Talk about %s for a moment.",
}

"""The talk between the facts: what an interviewer and an elderly caller say for an hour.

Sentences share the questions' vocabulary on purpose (dogs, streets, jobs, teachers, hospitals,
weddings), so that plain keyword matching finds plenty of near misses. Names here never overlap
the catalogue's values. Placeholders: ``{sister}``, ``{brother}``, ``{aunt}``, ``{uncle}``,
``{neighbour}``, ``{spouse}``, ``{name}``, ``{year}`` (four digits), ``{age}`` (a number in words),
``{season}``, ``{weekday}``, ``{place}``, ``{food}``.
"""

import random
import string


def pool(names: str) -> tuple[str, ...]:
    """``"a|b|c"`` as a tuple: long pools read better as one string."""
    return tuple(name.strip() for name in names.split("|"))


SISTERS = ("Winifred", "Lilian", "Nora", "Gladys", "Edna", "Mabel", "Hazel", "Ivy")
BROTHERS = ("Albert", "Cecil", "Wilfred", "Percy", "Leonard", "Horace", "Clifford", "Sidney")
AUNTS = ("Aunt Florence", "Aunt Maud", "Aunt Ethel", "Aunt Beatrice", "Aunt Lottie")
UNCLES = ("Uncle Herbert", "Uncle Reg", "Uncle Bertie", "Uncle Wally", "Uncle Ernest")
NEIGHBOURS = pool(
    "Mrs Pilling|Mr Ashworth|Mrs Entwistle|Mr Brierley|Mrs Hebden|Mr Clegg|Mrs Sowerby|Mr Tattersall|"
    "Mrs Higginbottom|Mr Nuttall|Mrs Birtwistle|Mr Haslam"
)
SEASONS = ("winter", "spring", "summer", "autumn")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
AGES = ("six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "sixteen")
PLACES = pool(
    "the park|the canal bank|the rec|the market|the pictures|the baths|the library|the station|"
    "the allotments|the fairground|the quarry|the bandstand|the tip|the railway bridge"
)
FOODS = pool(
    "bread and dripping|tripe and onions|a bit of brisket|pea soup|rice pudding|fish paste sandwiches|"
    "scrambled eggs|a stew that lasted all week|pancakes|baked beans|black pudding"
)

CALLER_SENTENCES = (
    # home and childhood
    "We had no bathroom, just a tin bath in front of the fire on a {weekday} night.",
    "Mother did the washing on a Monday, rain or shine, and the whole house smelled of soap.",
    "I can still hear the knocker-up tapping on the windows at five in the morning.",
    "{Sister} and I shared a bed until I was {age}, and she kicked like a mule.",
    "My brother {brother} was always the favourite, though Mother would never admit it.",
    "We'd play out on the street until it got dark, hopscotch and skipping and kick the can.",
    "The street lamps were gas then, and a man came round with a long pole to light them.",
    "There were eleven houses on our side of the street, and everyone knew everyone's business.",
    "{Neighbour} next door would lean over the wall and tell Mother all the gossip.",
    "If you were poorly, you had goose grease on your chest and a brown paper vest.",
    "We had {food} most days, and we were glad of it.",
    "On a Sunday we had {food} for tea, and that was a treat.",
    "Dad kept pigeons in a loft at the bottom of the yard and talked to them more than to us.",
    "I remember the winter of {year}, when the snow came up to the window sills.",
    "We went to {place} every {weekday} with {aunt}, who always had mint imperials in her bag.",
    "{Uncle} could play the spoons and the mouth organ, and he'd get everybody singing.",
    "The rag and bone man came down our street with his cart, shouting something nobody understood.",
    "Our dog next door but one used to chase the milk float every morning.",
    "There was a stray dog that followed us to school for a whole {season}.",
    "Every street had its own gang of children, and we fought the next street over conkers.",
    "The coalman carried the sacks through the house, and Mother put newspaper down.",
    "We moved house twice before I was {age}, always within a mile of the mill.",
    "Mother kept the front room for best, and we were only allowed in at Christmas.",
    "I used to sit on the front step with {sister} and count the trams going by.",
    # school
    "School was a big red brick building with separate doors for boys and girls.",
    "We wrote on slates at first, and then with dip pens that blotted everything.",
    "The headmaster had a cane on his desk, and he used it more than he needed to.",
    "I was good at spelling but hopeless at sums, and the teacher never let me forget it.",
    "We had a teacher who read to us every Friday afternoon, and the room went quiet as church.",
    "Our class had forty-odd children in it and one teacher, can you imagine that now?",
    "The school nurse came round looking for nits, and we all dreaded it.",
    "I left school at fourteen, like everybody did then, and nobody thought twice about it.",
    "We did country dancing in the school yard every {season}.",
    "I won a prize for handwriting once, a little book with a ribbon in it.",
    "The teacher made us learn the names of every river in England by heart.",
    "My best subject was history, because the teacher told it like stories.",
    # work
    "The work was hard, but you didn't complain, you were glad to have a job at all.",
    "We started at half past seven and finished at six, with half an hour for dinner.",
    "I gave my wage packet to Mother unopened and she gave me back pocket money.",
    "The foreman was a decent sort as long as you didn't answer back.",
    "I changed jobs three times in five years, always for a few shillings more.",
    "There was a strike one {season}, and we lived on bread and jam for a month.",
    "The girls at work all clubbed together when one of us got married.",
    "I caught the works bus at ten to seven every morning for years.",
    "The noise in that place was terrible; we talked with our hands in the end.",
    "Later on I worked in an office, and I thought I'd gone up in the world.",
    "My {spouse} worked shifts for years, so we passed each other on the stairs.",
    "When the mill closed, half the town was out of work overnight.",
    # courtship and marriage
    "We courted for two years, mostly walking round {place} because we had no money.",
    "My {spouse} asked Dad's permission first, which was the proper thing then.",
    "The wedding breakfast was ham salad in the Sunday school room, and we thought it was a banquet.",
    "We saved for our first furniture a shilling at a time.",
    "My {spouse} could be stubborn, but there was a soft heart underneath it all.",
    "We had our ups and downs, like everybody, but we never went to bed on a quarrel.",
    "Our first home had damp on the walls and mice in the pantry, but it was ours.",
    "{Sister} was my bridesmaid and she nearly upstaged me in a yellow dress.",
    "We went dancing every {weekday} night until the first baby came along.",
    # family
    "When the children were small, I didn't sit down from morning till night.",
    "We took the children to {place} on a {weekday} and they thought it was an adventure.",
    "Washing nappies by hand, you don't know you're born these days.",
    "Our house was always full of other people's children, and I liked it that way.",
    "The children had measles one after the other, one whole {season} of it.",
    "We didn't have much, but there was always a cake in the tin for visitors.",
    "My {spouse} built a go-kart for the boys out of an old pram and some planks.",
    "Christmas was an orange, a few nuts and one present each, and we were thrilled.",
    "The children's first dog was a soppy old thing that slept on the landing.",
    # town and neighbours
    "The town had a market on a {weekday}, and you could get anything there.",
    "Everybody knew the policeman by name, and he knew all of us.",
    "The corner shop let people have things on tick until payday.",
    "There were three chapels and two churches in our town, and they didn't get on.",
    "The street party for the Coronation went on until two in the morning.",
    "Our neighbours on that street were like family; you never locked your door.",
    "{Neighbour} took in washing and sang hymns over the mangle.",
    "When someone died, the whole street drew their curtains.",
    "The doctor's surgery had a bench outside, and you just waited your turn.",
    "I spent a week in hospital once with my appendix, and the ward sister was a dragon.",
    "The hospital was a long bus ride away, so you didn't go unless you had to.",
    "{Uncle} was a bit of a rogue, always selling something off the back of a lorry.",
    "{Aunt} never married, and she spoiled all of us rotten.",
    # later years
    "These days the knees aren't what they were, but I still get to the shops.",
    "The town's changed so much I hardly recognise it when they take me in the car.",
    "I try to walk to {place} and back every day, if the weather holds.",
    "My daughter rings every evening, regular as clockwork.",
    "I've got photographs in a shoebox that nobody has looked at for years.",
    "Sometimes I wake up and think I'm back in the old house.",
    "I never thought I'd be the oldest one left in the family.",
    "I do the crossword every morning; it keeps the brain ticking over.",
    # asides
    "Oh, I'm going off the point again, aren't I?",
    "Now where was I?",
    "It's funny what you remember and what you forget.",
    "I haven't thought about that in years.",
    "You'll think I'm making this up, but it's true.",
    "Those were hard times, but we were happy, really.",
    "Mind you, it wasn't all roses.",
    "People don't believe me when I tell them that now.",
    "I could talk about that all day, dear.",
    "It all seems like another world now.",
)

LOWERED_STARTS = frozenset({"We", "The", "There", "My", "Our", "Mother", "Every", "School", "When", "It"})
OPENERS = ("Well, ", "Oh, ", "You know, ", "Mind you, ", "Anyway, ", "Honestly, ", "", "", "", "", "", "")

AGENT_PROMPTS = (
    "What was that like for you?",
    "How did your mother cope with all that?",
    "Tell me more about {sister}.",
    "And how old were you then?",
    "That must have been hard. How did you manage?",
    "What do you remember about the neighbours on your street?",
    "Did you have any other jobs around that time?",
    "What was the town like in those days?",
    "How did you feel about that?",
    "Did your {spouse} feel the same way?",
    "What happened next?",
    "Can you describe the house for me?",
    "What did you do for fun as a youngster?",
    "Who else was in the family then?",
    "What was school like for you?",
    "Do you remember any of the teachers?",
    "Were there many dogs and cats around the street back then?",
    "What was the work like, day to day?",
    "How did the two of you manage for money?",
    "What was a typical Sunday like?",
    "Did you ever think about moving away?",
    "What was the hospital like in those days?",
    "How did the children get on at school?",
    "What do you miss most about those days?",
    "What would you want your grandchildren to know about that time?",
    "Tell me about {brother}.",
    "What was Christmas like in your house?",
    "Did you go to church as a family?",
    "How did you spend your wages?",
    "What did people in the town do of an evening?",
)
AGENT_BACKCHANNELS = (
    "Mm-hmm.",
    "I see.",
    "Go on.",
    "Oh, how lovely.",
    "Goodness.",
    "Really?",
    "That's wonderful.",
    "Oh dear.",
    "Yes, go on.",
)
CALLER_BACKCHANNELS = (
    "Yes.",
    "Mm-hmm.",
    "Oh yes.",
    "That's right.",
    "No, not really.",
    "Yes, dear.",
    "I suppose so.",
)


class Family:
    """One caller's people in the filler: two siblings, an aunt, an uncle, neighbours (names only)."""

    def __init__(self, rng: random.Random, spouse: str, name: str) -> None:
        self.sister = rng.choice(SISTERS)
        self.brother = rng.choice(BROTHERS)
        self.aunt = rng.choice(AUNTS)
        self.uncle = rng.choice(UNCLES)
        self.neighbours = rng.sample(NEIGHBOURS, 4)
        self.spouse = spouse
        self.name = name

    def fill(self, template: str, rng: random.Random) -> str:
        """``template`` with its placeholders filled (a capitalised placeholder gives a capital)."""
        slots = {
            "sister": f"my sister {self.sister}",
            "brother": self.brother,
            "aunt": self.aunt,
            "uncle": self.uncle,
            "neighbour": rng.choice(self.neighbours),
            "spouse": self.spouse,
            "name": self.name,
            "year": str(rng.randint(1935, 1975)),
            "age": rng.choice(AGES),
            "season": rng.choice(SEASONS),
            "weekday": rng.choice(WEEKDAYS),
            "place": rng.choice(PLACES),
            "food": rng.choice(FOODS),
        }
        slots |= {key.capitalize(): _capitalised(value) for key, value in slots.items()}
        return string.Formatter().vformat(template, (), slots)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def caller_sentences(family: Family, rng: random.Random, words: int, distractors: list[str]) -> str:
    """Reminiscence of about ``words`` words; about one sentence in six is a ``distractors`` line
    (already filled), which mentions other people's dogs, streets and jobs."""
    sentences: list[str] = []
    count = 0
    # Drawn without putting back: a monologue never says the same sentence twice.
    unsaid = rng.sample(CALLER_SENTENCES, len(CALLER_SENTENCES))
    while count < words and unsaid:
        if distractors and rng.random() < 0.17:
            sentence = rng.choice(distractors)
        else:
            sentence = _with_opener(family.fill(unsaid.pop(), rng), rng.choice(OPENERS))
        sentences.append(sentence)
        count += len(sentence.split())
    return " ".join(sentences)


def _with_opener(sentence: str, opener: str) -> str:
    # "Well, we had…" but never "Well, i…" or "Well, my sister…" lowered into a name.
    first = sentence.split(" ", 1)[0]
    if not opener or first not in LOWERED_STARTS:
        return sentence
    return opener + sentence[0].lower() + sentence[1:]


def agent_prompt(family: Family, rng: random.Random) -> str:
    """What the interviewer says between the caller's turns: a question, or a backchannel."""
    if rng.random() < 0.3:
        return rng.choice(AGENT_BACKCHANNELS)
    return family.fill(rng.choice(AGENT_PROMPTS), rng)

"""What the memoir callers can tell: one ``Topic`` per fact a caller plants in a call.

Placeholders in the texts: ``{value}`` (``{Value}`` capitalised) is the caller's own value for the
topic, ``{bridge}`` the value of the topic a multi-hop target leans on, ``{spouse}`` "husband" or
"wife", ``{name}`` the caller's first name, ``{other}`` a value of the same pool that is *not* the
caller's (distractors: a neighbour's dog, another street). Questions (``asks``) paraphrase the fact
instead of copying it, so that the words a keyword search needs are often missing.

Pools are disjoint between topics, and between topics and the filler's names (``talk.py``): a value
must appear in its fact turn only, which ``generate`` checks.
"""

from dataclasses import dataclass

from .talk import pool


@dataclass(frozen=True)
class Topic:
    """One kind of fact. ``says_briefly`` answers lean on the agent's question to be understood (the
    question turn is then evidence too); a multi-hop target has none and always names its bridge."""

    key: str
    values: tuple[str, ...]
    agent_asks: tuple[str, ...]
    says: tuple[str, ...]
    asks: tuple[str, ...]
    about: str = ""  # for "When did we talk about {about}?"; empty: never asked as temporal
    says_briefly: tuple[str, ...] = ()
    distractors: tuple[str, ...] = ()


def _topic(key: str, values: str, **texts: tuple[str, ...] | str) -> Topic:
    """A topic from a ``|``-separated pool (shorter to read than a tuple of fifteen strings)."""
    return Topic(key=key, values=pool(values), **texts)  # type: ignore[arg-type]


SINGLE = (
    _topic(
        "childhood_dog",
        "Rex|Nipper|Skipper|Bess|Bruno|Sandy|Toby|Prince|Rusty|Scamp|Lady|Rags",
        agent_asks=(
            "Were there any animals in the house when you were growing up, {name}?",
            "Did your family keep any pets when you were little?",
        ),
        says=(
            "Oh yes, we had a scruffy terrier called {value} when I was small. He'd trot down to the "
            "gate every evening to wait for my father.",
            "There was always {value}, our little mongrel, under the kitchen table when I was a child. "
            "Mother pretended not to feed him scraps.",
        ),
        says_briefly=(
            "{Value}. A scruffy little terrier, he was.",
            "Just the one, {value}. One ear up, one down.",
        ),
        asks=(
            "What was the name of the dog you had as a child?",
            "What was your childhood dog called?",
        ),
        about="the dog your family had when you were little",
        distractors=(
            "Our neighbour had a big Alsatian called {other} that barked at the coalman every morning.",
            "My cousin's dog {other} once ate a whole Sunday joint straight off the table.",
            "The vicar walked his spaniel {other} past our window at the same time every day.",
        ),
    ),
    _topic(
        "spouse_met",
        "the Palais dance hall|a church social|the roller rink|the Locarno ballroom|a harvest supper|"
        "the works canteen|the ice rink|a cinema queue|the swimming baths|the Drill Hall dance|"
        "a Young Farmers' dinner|the tennis club hop",
        agent_asks=(
            "How did you and your {spouse} first meet?",
            "Do you remember the first time you saw your {spouse}?",
        ),
        says=(
            "I first set eyes on my {spouse} at {value}. I was wearing my sister's borrowed frock and "
            "trying very hard to look older than I was.",
            "It was at {value} that I met my {spouse}, and I said to my friend, that's the one for me.",
        ),
        says_briefly=("At {value}. I trod on those poor feet all night.",),
        asks=(
            "Where was it that you met your {spouse}?",
            "Where did you and your {spouse} get to know each other?",
        ),
        about="how you met your {spouse}",
        distractors=(
            "My cousin met her fellow at {other}, and they were married within the year.",
            "Lots of couples in our town got together at {other} in those days.",
        ),
    ),
    _topic(
        "first_job",
        "Woolworths|Lyons tea shop|Boots the chemist|Kresge's five-and-dime|Marks and Spencer|"
        "Sears Roebuck|Burton's tailors|the Rialto cinema|Hepworth's drapery|Dewhurst's butcher's|"
        "the steam laundry|Timothy Whites",
        agent_asks=("What was your very first job, {name}?", "What did you do when you left school?"),
        says=(
            "I started at {value} the Monday after I left school, and I handed every penny of my "
            "wages straight to Mother.",
            "My first proper position was at {value}; I was fifteen and terrified of the customers.",
        ),
        says_briefly=(
            "{Value}. I was fifteen and terrified.",
            "{Value}, on the counter, in a starched overall.",
        ),
        asks=("Where did you go to work when you first left school?", "What was the first job you ever had?"),
        about="your first job",
        distractors=(
            "My brother went straight into {other} and hated every minute of it.",
            "Half the girls from our class ended up working at {other}.",
        ),
    ),
    _topic(
        "er_visit",
        "St Mary's|County General|the Royal Infirmary|Mercy Hospital|St Luke's|the Cottage Hospital|"
        "Good Samaritan|St Joseph's|Queen Elizabeth's|Providence Hospital|the Victoria Infirmary",
        agent_asks=(
            "Did you ever have any accidents as a youngster?",
            "Were you ever badly hurt as a child?",
        ),
        says=(
            "I came off my bicycle on the ice and ended up in the ER at {value} with my wrist in plaster "
            "for six weeks.",
            "The worst was when I went over the handlebars of my bike; they took me to the ER at {value} "
            "and set my wrist there.",
        ),
        asks=(
            "Which hospital were you taken to after you fell off your bicycle?",
            "Where were you treated when you broke your wrist as a child?",
        ),
        about="the time you broke your wrist",
        distractors=(
            "My father was in and out of {other} with his chest for years.",
            "They took our neighbour to the ER at {other} after his fall on the stairs.",
        ),
    ),
    _topic(
        "er_doctor",
        "Dr Patel|Dr Morrison|Dr Alvarez|Dr Kenyon|Dr Brennan|Dr Osei|Dr Whitaker|Dr Lindqvist|"
        "Dr Fairbairn|Dr Castillo|Dr Mbeki",
        agent_asks=("You mentioned your {spouse} was poorly once. What happened?",),
        says=(
            "The night my {spouse} collapsed we sat in the ER for hours, and the young doctor who saw to "
            "us was {value}. So kind, I never forgot it.",
        ),
        asks=("Who was the doctor that looked after your {spouse} in the emergency room?",),
        about="the night your {spouse} collapsed",
        distractors=(
            "Our family doctor for years was {other}, who still made house calls.",
            "{other} did my cataracts, and very good he was too.",
        ),
    ),
    _topic(
        "birth_town",
        "Wigan|Huddersfield|Bolton|Toledo|Akron|Paisley|Barnsley|Kenosha|Tralee|Rochdale|Sioux City|Dundee",
        agent_asks=("Where were you born, {name}?", "Where does your story begin?"),
        says=(
            "I was born in {value}, in the front bedroom, in the same bed my mother was born in.",
            "I came into the world in {value}, in the middle of a heatwave, or so Mother always said.",
        ),
        says_briefly=("{Value}. In the front bedroom, mind, not a hospital.",),
        asks=("What town were you born in?", "Where is your birthplace?"),
        about="where you were born",
        distractors=(
            "My mother's people all came from {other}, over the hills.",
            "We had cousins in {other} we only saw at funerals.",
        ),
    ),
    _topic(
        "father_job",
        "a coal miner|a signalman|a tram driver|a blacksmith|a postman|a docker|a steelworker|"
        "a lorry driver|a milkman|a printer|a gamekeeper|a stonemason",
        agent_asks=("What did your father do for a living?", "Tell me about your father."),
        says=(
            "My father was {value} all his working life, and he came home too tired to talk most nights.",
            "Dad was {value}, like his father before him, and he was proud of it.",
        ),
        says_briefly=("{Value}, all his life.",),
        asks=("What was your dad's occupation?", "How did your father earn his living?"),
        about="your father's work",
        distractors=(
            "My uncle was {other}, and he had hands like shovels.",
            "Our lodger was {other}, and he kept very odd hours.",
        ),
    ),
    _topic(
        "wedding_song",
        "Moon River|Unchained Melody|Love Me Tender|Stardust|Let It Be Me|Only You|"
        "The Very Thought of You|Dream a Little Dream of Me|Some Enchanted Evening|True Love|"
        "Smoke Gets in Your Eyes|Autumn Leaves",
        agent_asks=("Was there music at your wedding?",),
        says=("The band played {value} for our first dance and I cried all the way through it.",),
        says_briefly=("{Value}. We'd asked the band for it specially.",),
        asks=("Which tune did the two of you first dance to as a married couple?",),
        about="the first dance at your wedding",
        distractors=(
            "Mother always sang {other} while she did the ironing.",
            "My sister had {other} at her wedding, and it went on far too long.",
        ),
    ),
    _topic(
        "honeymoon",
        "Blackpool|Niagara Falls|Scarborough|Torquay|Atlantic City|Llandudno|the Isle of Man|"
        "Cape Cod|Bournemouth|the Poconos|Weston-super-Mare",
        agent_asks=("Did you go away after the wedding?",),
        says=("We had three nights in {value} after the wedding, and it rained every single day.",),
        says_briefly=("{Value}. Three nights, and it never stopped raining.",),
        asks=("Where did you go on honeymoon?",),
        about="your honeymoon",
        distractors=(
            "We took the children to {other} one summer and all got sunburnt.",
            "My brother swore by {other}, but I found it awfully dull.",
        ),
    ),
    _topic(
        "first_car",
        "a Morris Minor|a Ford Anglia|a Chevrolet Bel Air|an Austin Seven|a Hillman Imp|a Studebaker|"
        "a Vauxhall Viva|a Ford Model A|a Buick Special|a Triumph Herald|a Nash Rambler",
        agent_asks=("Do you remember the first motor you owned?",),
        says=(
            "Our first motor was {value}, second-hand, and you had to push it to start it on cold mornings.",
        ),
        says_briefly=("{Value}. Pale blue, and it leaked when it rained.",),
        asks=("What was the first car you owned?", "What make of car did you have first?"),
        about="your first car",
        distractors=(
            "Our neighbour had {other} that he polished every Sunday morning.",
            "The doctor drove {other}, and we children would run after it.",
        ),
    ),
    _topic(
        "nickname",
        "Sparrow|Ginger|Dimples|Tiddler|Curly|Nutty|Pip|Tuppence|Chalky|Bunny|Titch|Sprout",
        agent_asks=("Did anyone have a pet name for you as a child?",),
        says=("My grandfather always called me {value}, and to this day my brothers still do.",),
        says_briefly=("{Value}! Grandad started it and it stuck.",),
        asks=("What nickname did your family give you when you were little?",),
        about="your childhood nickname",
        distractors=(
            "We called my little brother {other} because he was always under our feet.",
            "The lad next door was known as {other}, though I never knew why.",
        ),
    ),
    _topic(
        "radio_show",
        "Dick Barton|The Lone Ranger|Children's Hour|The Goon Show|Hancock's Half Hour|The Shadow|"
        "Fibber McGee and Molly|Journey into Space|Mrs Dale's Diary|The Green Hornet|Family Favourites",
        agent_asks=("What did you listen to on the wireless back then?",),
        says=("We never missed {value}; the whole family sat round the set with our cocoa.",),
        says_briefly=("{Value}, every week without fail.",),
        asks=("Which radio programme did the family gather round for?",),
        about="the programmes on the wireless",
        distractors=(
            "My father liked {other}, but we children found it dreadfully dull.",
            "Our lodger listened to {other} with the volume right up.",
        ),
    ),
    _topic(
        "show_prize",
        "prize marrows|sweet peas|runner beans|dahlias|giant onions|rhubarb|chrysanthemums|"
        "gooseberries|leeks|pumpkins|begonias",
        agent_asks=("Have you always been a gardener?",),
        says=(
            "I won first prize at the village show three years running for my {value}, and "
            "the vicar was most put out.",
        ),
        says_briefly=("{Value}. I won the show with them three years on the trot.",),
        asks=("What did you grow that took the top award at the village show?",),
        about="your win at the village show",
        distractors=(
            "Next door grew {other}, but the slugs had most of them.",
            "My father-in-law was forever fussing over his {other}.",
        ),
    ),
    _topic(
        "holiday_place",
        "the Lake District|Cornwall|the Norfolk Broads|Yellowstone|the Grand Canyon|Lake Tahoe|"
        "the Scottish Highlands|the Outer Banks|Snowdonia|the Yorkshire Dales|Lake Michigan",
        agent_asks=("Where did you most like to go on holiday?",),
        says=("Our favourite place in the world was {value}; we went back every August for twenty years.",),
        says_briefly=("{Value}. Every August, the same cottage.",),
        asks=("Where did you go every summer for your break?",),
        about="your favourite holiday spot",
        distractors=(
            "My brother and his wife preferred {other}, but I always found it too crowded.",
            "We tried {other} once and never went back.",
        ),
    ),
    _topic(
        "club",
        "the church choir|the Women's Institute|the bowls club|the Rotary|the amateur dramatic society|"
        "the rambling club|the bridge club|the Townswomen's Guild|the brass band|"
        "the chess club|the Elks lodge",
        agent_asks=("What did you do with your evenings once the children were older?",),
        says=("I joined {value} and made more friends there than anywhere else in my life.",),
        says_briefly=("{Value}, Tuesday and Thursday nights, for nearly thirty years.",),
        asks=("Which society did you belong to when the children had grown?",),
        about="the society you joined",
        distractors=(
            "My friend tried to get me into {other}, but it was all gossip.",
            "Our neighbour ran {other} for years and never let anyone forget it.",
        ),
    ),
    _topic(
        "retirement_gift",
        "a carriage clock|a gold watch|a canteen of cutlery|a barometer|a fountain pen|a set of golf clubs|"
        "a cut-glass decanter|a garden bench|a crystal vase|a silver tankard|a leather armchair",
        agent_asks=("How did it feel to retire?",),
        says=(
            "When I finished work they gave me {value} and a lovely speech, and I cried in "
            "the car park afterwards.",
        ),
        says_briefly=("Strange. They gave me {value} and a speech, and I cried in the car park.",),
        asks=("What were you presented with when you retired?",),
        about="your retirement",
        distractors=(
            "My brother got {other} when he left the railway, and it sat in a cupboard ever after.",
            "Everyone at the works got {other} in those days; there was no imagination.",
        ),
    ),
    _topic(
        "grandchild",
        "Chloe|Jack|Olivia|Ethan|Sophie|Liam|Emily|Noah|Grace|Oscar|Ruby|Poppy",
        agent_asks=("Tell me about your grandchildren.",),
        says=(
            "The first grandchild was little {value}, and holding that baby was the happiest day of my life.",
        ),
        says_briefly=("{Value} came first. Holding that baby was the happiest day of my life.",),
        asks=("What is the name of your first grandchild?",),
        about="your first grandchild",
        distractors=(
            "The little one next door, {other}, is the same age and they play together.",
            "My friend's granddaughter {other} sings in the school choir.",
        ),
    ),
    _topic(
        "mothers_dish",
        "bread pudding|steak and kidney pie|apple dumplings|Lancashire hotpot|peach cobbler|treacle tart|"
        "corned beef hash|parkin|meat loaf|Welsh cakes|jam roly-poly",
        agent_asks=("What did your mother cook that you still think about?",),
        says=(
            "Nobody made {value} like my mother; I've tried her way a hundred times and never got it right.",
        ),
        says_briefly=("Her {value}. I've never got it right myself.",),
        asks=("Which of your mum's recipes do you still miss?",),
        about="your mother's cooking",
        distractors=(
            "My aunt would bring {other} round on a Friday, and it was always burnt on the bottom.",
            "School dinners were {other} every Thursday, and we dreaded it.",
        ),
    ),
    _topic(
        "cat",
        "Smudge|Tibbles|Marmalade|Sooty|Whiskers|Pickle|Mittens|Tigger|Jasper|Pudding|Misty",
        agent_asks=("Do you have any company at home these days?",),
        says=("These days it's just me and {value}, my old tabby, who sleeps on the end of my bed.",),
        says_briefly=("Just {value}, my old tabby. Better company than most.",),
        asks=("What's the name of the cat you have now?",),
        about="your cat",
        distractors=(
            "The lady across the road has a ginger tom called {other} who sits on my wall.",
            "My daughter's cat {other} brings in mice and leaves them on the mat.",
        ),
    ),
    _topic(
        "moon_landing",
        "the Red Lion|my mother-in-law's front room|the church hall|a caravan in Whitby|a motel in Tucson|"
        "the maternity ward|the working men's club|a campsite in Wales|the bowling alley|the fire station",
        agent_asks=("Do you remember where you were for the moon landing?",),
        says=(
            "When they walked on the moon I was sitting in {value}, watching a tiny flickering set with "
            "everyone holding their breath.",
        ),
        says_briefly=("In {value}, on a tiny flickering set.",),
        asks=("Where did you watch the first men on the moon?",),
        about="watching the moon landing",
        distractors=(
            "For the Coronation we all crammed into {other} to watch.",
            "We watched the Cup Final in {other} that year.",
        ),
    ),
    _topic(
        "first_boss",
        "Mr Greaves|Mrs Oakley|Mr Sutcliffe|Miss Tibbett|Mr Ramsbottom|Mr Kowalski|Mrs Haworth|"
        "Mr Bellamy|Mr Crowther|Mrs Ingram|Mr Faulkner",
        agent_asks=("Who was in charge where you worked then?",),
        says=(
            "The manager, {value}, ran the place like a sergeant major and inspected our "
            "fingernails every morning.",
        ),
        says_briefly=("{Value}. Inspected our fingernails every morning, would you believe.",),
        asks=("Who was your boss when you started working?",),
        about="your first boss",
        distractors=(
            "My friend worked under {other}, who was kindness itself.",
            "{other} from the accounts office used to slip us toffees.",
        ),
    ),
    _topic(
        "team",
        "Burnley|the Chicago Cubs|Preston North End|the Green Bay Packers|Bolton Wanderers|"
        "the Brooklyn Dodgers|"
        "Everton|the Detroit Tigers|Leeds United|the St Louis Cardinals|Blackburn Rovers",
        agent_asks=("Were you a sporting family?",),
        says=(
            "My father took me to see {value} every other Saturday, and I've followed them ever since, "
            "through thick and thin.",
        ),
        says_briefly=("Oh, {value}, through thick and thin.",),
        asks=("Which side have you supported since you were young?",),
        about="the team you follow",
        distractors=(
            "My brother-in-law supports {other}, so Christmas dinner can get lively.",
            "The lads at work were all for {other}.",
        ),
    ),
    _topic(
        "spouse_name",
        "Bill|Frank|Arthur|Ken|George|Alan|Ted|Roy|Cyril|Harry|Stan",
        agent_asks=("What was your {spouse}'s name?",),
        says=("My {spouse} was called {value}, and there was never anyone else for me after that.",),
        says_briefly=("{Value}. There was never anyone else for me.",),
        asks=("What was your late {spouse} called?",),
        about="your {spouse}",
        distractors=(
            "{other} from the chapel used to come round for cards on a Friday.",
            "My sister walked out with a lad called {other} for a while.",
        ),
    ),
    _topic(
        "evacuation",
        "Shrewsbury|Kendal|Hereford|Aberystwyth|Taunton|Ludlow|Bideford|Brecon|Penrith|Oswestry|Keswick",
        agent_asks=("What happened to you children during the war?",),
        says=(
            "They sent me away to a farm near {value} with a label on my coat, and I didn't "
            "see Mother for two years.",
        ),
        says_briefly=("A farm near {value}, with a label on my coat.",),
        asks=("Where were you sent as an evacuee?",),
        about="being sent away in the war",
        distractors=(
            "My cousin was billeted near {other} and loved every minute of it.",
            "The school sent a whole trainload to {other}.",
        ),
    ),
    _topic(
        "wedding_church",
        "St Anne's|the Methodist chapel on the hill|St Michael's|Holy Trinity|the registry office|"
        "First Baptist|St Cuthbert's|Our Lady of Lourdes|St Peter's|Zion Lutheran|All Saints",
        agent_asks=("Where did you get married?",),
        says=(
            "We were married at {value} on a freezing Saturday, and the minister got our "
            "names the wrong way round.",
        ),
        says_briefly=("{Value}. Freezing cold, and the minister mixed up our names.",),
        asks=("In which church did your wedding take place?",),
        about="your wedding day",
        distractors=(
            "My parents were married at {other}, and so were my grandparents.",
            "We used to go to the Christmas service at {other}.",
        ),
    ),
)

# Multi-hop pairs: the bridge (said in one call) names an entity; the target (said in a later call)
# names the entity and the answer. The question describes the entity without naming it.
BRIDGES = (
    _topic(
        "childhood_street",
        "Alma Road|Tanner Street|Maple Avenue|Jubilee Terrace|Chapel Lane|Elm Grove|Station Road|"
        "Union Street|Cedar Lane|Mill Street|Prospect Row|Orchard Place",
        agent_asks=(
            "Where did you live when you were growing up?",
            "Can you picture the house you grew up in?",
        ),
        says=(
            "We lived at the end of {value}, in a little terraced house with a privy out the back.",
            "I grew up on {value}, three doors down from the chapel.",
        ),
        says_briefly=("{Value}. The house with the green door.",),
        asks=("What was the name of the road your family lived on when you were young?",),
        about="the road you grew up on",
        distractors=(
            "My aunt lived over on {other}, and we'd walk there every Sunday after church.",
            "The school was on {other}, a good mile from home.",
        ),
    ),
    _topic(
        "favourite_teacher",
        "Miss Hargreaves|Mr Pollard|Mrs Fenwick|Miss Delaney|Mr Whitlock|Miss Carver|Mrs Abernathy|"
        "Mr Lister|Miss Penrose|Mr Tulloch|Mrs Quayle",
        agent_asks=("Was there a teacher who made a difference to you?", "Who did you like best at school?"),
        says=("The one I loved was {value}, who taught us English and made me believe I could write.",),
        says_briefly=("{Value}, without a doubt. English and poetry.",),
        asks=("Which schoolteacher encouraged you the most?",),
        about="your favourite teacher",
        distractors=(
            "{other} took us for arithmetic, and I never did get the hang of long division.",
            "My brother had {other} for games and came home muddy every week.",
        ),
    ),
    _topic(
        "best_friend",
        "Joan Prescott|Betty Marsh|Ronnie Hale|Alfie Dunn|Peggy Lomax|Iris Whitby|Stanley Crook|"
        "Mavis Rudd|Eddie Bloom|Vera Lund|Norman Pike",
        agent_asks=("Who was your closest friend when you were young?",),
        says=(
            "My best friend all through school was {value}; we were thick as thieves and sat "
            "together every day.",
        ),
        says_briefly=("{Value}. We did everything together, right up until we left school.",),
        asks=("Who were you inseparable from in your schooldays?",),
        about="your best friend from school",
        distractors=(
            "{other} from the next street used to tag along, but we never really let them in.",
            "I sat next to {other} for a term, and we never said a word to each other.",
        ),
    ),
    _topic(
        "moved_town",
        "Harrogate|Swindon|Peoria|Dayton|Kettering|Stockport|Macon|Gloucester|Duluth|Scranton|"
        "Doncaster|Rockford",
        agent_asks=("Where did you set up home after the wedding?",),
        says=(
            "After the wedding we packed everything we owned into one van and moved to {value}, where "
            "a cousin had found us two rooms.",
        ),
        says_briefly=("{Value}. Two rooms above a shop, and we thought we were royalty.",),
        asks=("Which town did the two of you settle in once you were married?",),
        about="your move after the wedding",
        distractors=(
            "My sister ended up in {other}, which always seemed a grey sort of place to me.",
            "We had a week in {other} once, visiting his side of the family.",
        ),
    ),
    _topic(
        "eldest_child",
        "Susan|Michael|Carol|Robert|Linda|David|Janet|Peter|Karen|Stephen|Brenda",
        agent_asks=("Tell me about your first child.",),
        says=(
            "Our eldest, {value}, arrived in the middle of a snowstorm, and the midwife only just made it.",
        ),
        says_briefly=("{Value}. Arrived in a snowstorm, and the midwife only just made it.",),
        asks=("What did you name your firstborn?",),
        about="the birth of your first child",
        distractors=(
            "My sister's boy {other} was always getting into scrapes.",
            "{other} from down the road used to babysit for us.",
        ),
    ),
)

TARGETS = (
    _topic(
        "corner_shop",
        "Hobson's bakery|a sweet shop kept by Mr Abel|Dawson's hardware|Pearson's chip shop|a pawnbroker's|"
        "Lindley's newsagent|a cobbler's|Grimshaw's pork butcher|a little haberdashery|Fothergill's grocery|"
        "a barber's with a striped pole",
        agent_asks=("What do you remember about the shops near home?",),
        says=(
            "On the corner of {bridge} there was {value}, and on a Saturday morning the whole street "
            "would queue outside it.",
        ),
        asks=("What shop stood at the corner of the street where you grew up?",),
        distractors=(
            "In town there was {other}, but we hardly ever went in.",
            "My aunt's road had {other} at the end of it.",
        ),
    ),
    _topic(
        "teacher_gift",
        "Jane Eyre|Treasure Island|Little Women|The Secret Garden|David Copperfield|Wuthering Heights|"
        "Kidnapped|Black Beauty|Great Expectations|The Wind in the Willows|Lorna Doone",
        agent_asks=("Did you keep anything from your schooldays?",),
        says=(
            "When I left school {bridge} pressed a copy of {value} into my hands and told me to keep "
            "reading. I still have it on the shelf.",
        ),
        asks=("Which book did the teacher who encouraged you most give you when you left school?",),
        distractors=(
            "I read {other} to the children at bedtime until the spine fell apart.",
            "We had to learn pages of {other} by heart.",
        ),
    ),
    _topic(
        "friend_emigrated",
        "Toronto|Auckland|Perth in Australia|Cape Town|Vancouver|Adelaide|Wellington|Brisbane|Montreal|"
        "Halifax in Nova Scotia|Durban",
        agent_asks=("Did you stay in touch with the people you grew up with?",),
        says=(
            "{bridge} emigrated to {value} in the end, and for years we wrote to each other every Christmas.",
        ),
        asks=("Where did your closest school friend go to live abroad?",),
        distractors=(
            "A lot of families from our way went out to {other} on the assisted passage.",
            "My cousin tried {other} for two years and came home.",
        ),
    ),
    _topic(
        "job_there",
        "the paper mill|the glove factory|the telephone exchange|the railway works|the biscuit factory|"
        "the county library|the bus depot|the hosiery mill|the sorting office|the tannery|the brewery",
        agent_asks=("What did you do for work in those early married years?",),
        says=("In {bridge} I got taken on at {value}, and I stayed there nearly eleven years.",),
        asks=("What work did you do in the town you moved to after the wedding?",),
        distractors=(
            "My brother did a stint at {other} before he went into the army.",
            "Half our street worked at {other} when I was growing up.",
        ),
    ),
    _topic(
        "child_career",
        "a nurse|a schoolteacher|a police sergeant|an engineer|a vet|a solicitor|an airline pilot|"
        "a pharmacist|a carpenter|a midwife|an architect",
        agent_asks=("What are your children doing now?",),
        says=("{bridge} grew up to be {value}, which nobody expected, least of all me.",),
        asks=("What did your eldest grow up to do for a living?",),
        distractors=(
            "My nephew trained as {other} but gave it up after a year.",
            "The lad from next door became {other}, and his mother never stopped talking about it.",
        ),
    ),
)

# Which target leans on which bridge.
PAIRS = dict(
    zip(
        ("childhood_street", "favourite_teacher", "best_friend", "moved_town", "eldest_child"),
        ("corner_shop", "teacher_gift", "friend_emigrated", "job_there", "child_career"),
        strict=True,
    )
)
TOPICS = {topic.key: topic for topic in (*SINGLE, *BRIDGES, *TARGETS)}
